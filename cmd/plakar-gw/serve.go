package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/gateway"
)

func newServeCmd(a *app) *cobra.Command {
	var o gateway.ServeOptions
	var secretFile string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve every snapshot read-only over S3 and WebDAV",
		Long: `Serve every snapshot of the repository read-only until interrupted.

--s3 ADDR serves the S3 API: each snapshot is a bucket named snap-<12 hex>,
and each job has an alias bucket JOB-latest. --webdav ADDR serves a WebDAV
tree with the same names as top-level folders. Addresses are host:port;
bind to 127.0.0.1 unless the gateway must be reached from elsewhere.

Requests are authenticated with one key pair: the access key id from
--access-key-id or PLAKAR_GW_ACCESS_KEY_ID, the secret from
--secret-access-key-file or PLAKAR_GW_SECRET_ACCESS_KEY. S3 clients sign
with it (AWS Signature V4); WebDAV clients log in with it as user name and
password. --user NAME:BCRYPT-HASH adds WebDAV users. --anonymous lets
unauthenticated clients read.

Snapshots hidden by the signing policy (signing.require_signature) are not
served.`,
		Example: `  export PLAKAR_GW_ACCESS_KEY_ID=gw PLAKAR_GW_SECRET_ACCESS_KEY=$(openssl rand -hex 20)
  plakar-gw serve --s3 127.0.0.1:9000 --webdav 127.0.0.1:9001
  AWS_ACCESS_KEY_ID=gw AWS_SECRET_ACCESS_KEY=$PLAKAR_GW_SECRET_ACCESS_KEY \
    aws --endpoint-url http://127.0.0.1:9000 s3 ls`,
		Args: checkArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.config()
			if err != nil {
				return err
			}
			if o.AccessKeyID == "" {
				o.AccessKeyID = os.Getenv(gateway.EnvPrefix + "ACCESS_KEY_ID")
			}
			if secretFile != "" {
				s, err := gateway.ReadSecretFile(secretFile)
				if err != nil {
					return err
				}
				o.SecretAccessKey = s
			} else {
				o.SecretAccessKey = os.Getenv(gateway.EnvPrefix + "SECRET_ACCESS_KEY")
			}
			o.Ready = func(s3, webdav string) { gateway.PrintURLs(a.stdout, o, s3, webdav) }
			return gateway.Serve(cmd.Context(), c, o, a.logger())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.S3Addr, "s3", "", "serve the S3 API on `ADDR` (host:port)")
	f.StringVar(&o.WebDAVAddr, "webdav", "", "serve WebDAV on `ADDR` (host:port)")
	f.StringVar(&o.AccessKeyID, "access-key-id", "", "access key `ID` (env PLAKAR_GW_ACCESS_KEY_ID)")
	f.StringVar(&secretFile, "secret-access-key-file", "", "read the secret access key from `FILE` (env PLAKAR_GW_SECRET_ACCESS_KEY holds the secret itself)")
	f.StringArrayVar(&o.Users, "user", nil, "add a WebDAV user `NAME:BCRYPT-HASH` (repeatable)")
	f.BoolVar(&o.Anonymous, "anonymous", false, "let unauthenticated clients read")
	f.StringVar(&o.Region, "region", "", "`REGION` S3 requests must be signed for (default: any)")
	f.StringVar(&o.TLSCert, "tls-cert", "", "serve HTTPS with this certificate `FILE` (needs --tls-key)")
	f.StringVar(&o.TLSKey, "tls-key", "", "private key `FILE` of --tls-cert")
	return cmd
}
