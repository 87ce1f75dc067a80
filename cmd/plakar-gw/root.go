package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const rootLong = `plakar-gw ingests sources (local folders, FTP servers, S3 buckets, importer
plugins) into a repository that deduplicates, compresses, encrypts and signs,
and gives every snapshot back read-only (serve: S3, WebDAV, web UI; mount).

Settings come from flags, then PLAKAR_GW_* environment variables, then the
config file (--config FILE or $PLAKAR_GW_CONFIG; by default
$XDG_CONFIG_HOME/plakar-gw/config.yaml, then /etc/plakar-gw/config.yaml).

The passphrase comes from --passphrase-file, then $PLAKAR_GW_PASSPHRASE,
then $PLAKAR_GW_PASSPHRASE_FILE or repository.passphrase_file, then a prompt
when standard input is a terminal.

Snapshots are named by their id, a unique prefix of it, "latest" or
"JOB-latest". SNAP:PATH names a path inside a snapshot.

Exit codes: 0 success, 1 failure (or problems found by check), 2 bad usage,
3 partial (ingest or restore finished but some paths had errors), 4 verify:
the snapshot is unsigned or not signed by a trusted key, 5 verify: the
snapshot is invalid (bad signature, tampered content or unreadable header).`

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "plakar-gw",
		Short:         "A deduplicating, compressed, encrypted backup gateway",
		Long:          rootLong,
		SilenceErrors: true,
		SilenceUsage:  true,
		Example: `  plakar-gw init
  plakar-gw ingest --job home ~/
  plakar-gw snapshots
  plakar-gw restore home-latest:Documents --to /tmp/docs`,
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	pf := root.PersistentFlags()
	pf.StringVar(&a.configFile, "config", "", "config `FILE` (default $XDG_CONFIG_HOME/plakar-gw/config.yaml, then /etc/plakar-gw/config.yaml)")
	pf.String("repo", "", "repository `DIR` (env PLAKAR_GW_REPO; default $XDG_DATA_HOME/plakar-gw/repo)")
	pf.String("passphrase-file", "", "read the passphrase from `FILE` (env PLAKAR_GW_PASSPHRASE_FILE)")
	pf.String("cache-dir", "", "local cache `DIR` (env PLAKAR_GW_CACHE_DIR; default the user cache dir)")
	pf.String("log-format", "", "log `FORMAT`: text or json (env PLAKAR_GW_LOG_FORMAT; default text)")
	pf.BoolVar(&a.json, "json", false, "print machine-readable JSON")
	a.keyFlags = map[string]*pflag.Flag{
		"repository.path":            pf.Lookup("repo"),
		"repository.passphrase_file": pf.Lookup("passphrase-file"),
		"repository.cache_dir":       pf.Lookup("cache-dir"),
		"log.format":                 pf.Lookup("log-format"),
	}
	root.AddCommand(newInitCmd(a), newIngestCmd(a), newSnapshotsCmd(a), newLsCmd(a), newCatCmd(a),
		newRestoreCmd(a), newSummaryCmd(a), newErrorsCmd(a), newCheckCmd(a), newRmCmd(a), newGCCmd(a),
		newKeyCmd(a), newSignCmd(a), newVerifyCmd(a), newServeCmd(a), newMountCmd(a), newUserCmd(a), newRepoCmd(a), newPluginCmd(a))
	return root
}
