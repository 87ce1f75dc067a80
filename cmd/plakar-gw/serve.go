package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/gateway"
)

func newServeCmd(a *app) *cobra.Command {
	var o gateway.ServeOptions
	var s3Addr, davAddr, uiAddr, metricsAddr, region, tlsCert, tlsKey, secretFile string
	var anonymous bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve every snapshot read-only (S3, WebDAV, web UI, metrics) and run scheduled jobs",
		Long: `Serve every snapshot of the repository read-only, and run the jobs of the
config on their schedules, until interrupted (SIGINT or SIGTERM: requests in
flight get shutdown_timeout to finish; a job still running after that is
stopped and writes no snapshot).

Listeners come from the config (listeners.s3, listeners.webdav,
listeners.metrics) or from flags: --s3 ADDR serves the S3 API, where each
snapshot is a bucket named snap-<12 hex> and each job has an alias bucket
JOB-latest; --webdav ADDR serves a WebDAV tree with the same names as
top-level folders; --ui ADDR serves the web UI (log in with a user's name
and password); --metrics ADDR serves /metrics (Prometheus), /healthz
and /readyz. Addresses are host:port; keep 127.0.0.1 unless the gateway
must be reached from elsewhere.

Users come from the config (users: S3 key pairs, bcrypt password hashes,
and which jobs or snapshots each may read). One more, unrestricted, key
pair can come from --access-key-id or PLAKAR_GW_ACCESS_KEY_ID with the
secret from --secret-access-key-file or PLAKAR_GW_SECRET_ACCESS_KEY: S3
clients sign with it (AWS Signature V4) and WebDAV clients log in with it
as user name and password. --user NAME:BCRYPT-HASH adds WebDAV users.
--anonymous (or anonymous: true) lets unauthenticated clients read.

New snapshots (from a job or another process) show within 2 seconds.
Snapshots hidden by the signing policy (signing.require_signature) are not
served.

The process keeps a soft memory limit of 200 MiB (GOMEMLIMIT overrides it;
GOGC sets the collector's target, 100 by default here).`,
		Example: `  export PLAKAR_GW_ACCESS_KEY_ID=gw PLAKAR_GW_SECRET_ACCESS_KEY=$(openssl rand -hex 20)
  plakar-gw serve --s3 127.0.0.1:9000 --webdav 127.0.0.1:9001
  AWS_ACCESS_KEY_ID=gw AWS_SECRET_ACCESS_KEY=$PLAKAR_GW_SECRET_ACCESS_KEY \
    aws --endpoint-url http://127.0.0.1:9000 s3 ls
  plakar-gw serve --config /etc/plakar-gw/config.yaml`,
		Args: checkArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			readerGC(serveMemoryLimit)
			c, err := a.config()
			if err != nil {
				return err
			}
			set := func(l *gateway.ListenerConfig, addr string) {
				if addr != "" {
					l.Enabled, l.Addr = true, addr
				}
				if tlsCert != "" {
					l.TLSCert, l.TLSKey = tlsCert, tlsKey
				}
			}
			set(&c.Listeners.S3, s3Addr)
			set(&c.Listeners.WebDAV, davAddr)
			set(&c.Listeners.UI, uiAddr)
			set(&c.Listeners.Metrics, metricsAddr)
			if region != "" {
				c.Listeners.S3.Region = region
			}
			if anonymous {
				c.Anonymous = true
			}
			if err := c.Validate(); err != nil {
				return usageError(err)
			}
			if o.AccessKeyID == "" {
				o.AccessKeyID = os.Getenv(gateway.EnvPrefix + "ACCESS_KEY_ID")
			}
			if secretFile != "" {
				s, err := gateway.ReadSecretFile(secretFile)
				if err != nil {
					return err
				}
				o.SecretAccessKey, o.SecretFile = s, secretFile
			} else {
				o.SecretAccessKey = os.Getenv(gateway.EnvPrefix + "SECRET_ACCESS_KEY")
			}
			o.Ready = func(addrs map[string]string) { gateway.PrintURLs(a.stdout, c, o, addrs) }
			return gateway.Serve(cmd.Context(), c, o, a.logger())
		},
	}
	f := cmd.Flags()
	f.StringVar(&s3Addr, "s3", "", "serve the S3 API on `ADDR` (host:port; listeners.s3)")
	f.StringVar(&davAddr, "webdav", "", "serve WebDAV on `ADDR` (host:port; listeners.webdav)")
	f.StringVar(&uiAddr, "ui", "", "serve the web UI on `ADDR` (host:port; listeners.ui)")
	f.StringVar(&metricsAddr, "metrics", "", "serve /metrics, /healthz and /readyz on `ADDR` (listeners.metrics)")
	f.StringVar(&o.AccessKeyID, "access-key-id", "", "access key `ID` (env PLAKAR_GW_ACCESS_KEY_ID)")
	f.StringVar(&secretFile, "secret-access-key-file", "", "read the secret access key from `FILE` (env PLAKAR_GW_SECRET_ACCESS_KEY holds the secret itself)")
	f.StringArrayVar(&o.Users, "user", nil, "add a WebDAV user `NAME:BCRYPT-HASH` (repeatable)")
	f.BoolVar(&anonymous, "anonymous", false, "let unauthenticated clients read (anonymous)")
	f.StringVar(&region, "region", "", "`REGION` S3 requests must be signed for (listeners.s3.region; default: any)")
	f.StringVar(&tlsCert, "tls-cert", "", "serve HTTPS on the listeners given by flags with this certificate `FILE` (needs --tls-key)")
	f.StringVar(&tlsKey, "tls-key", "", "private key `FILE` of --tls-cert")
	return cmd
}
