package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/gateway"
)

func newPluginCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugin",
		Short: "Importer plugins",
		Long: `Importer plugins are programs that plakar-gw starts to read a source it has
no built-in importer for. They are found in the plugins folder (plugins.dir,
$PLAKAR_GW_PLUGINS_DIR, default the "plugins" folder next to the default
repository, ~/.local/share/plakar-gw/plugins) and at the paths listed in
plugins.paths. A plugin is used like a built-in importer: by its URL scheme
("plakar-gw ingest tar:///backups/site.tar.gz") or by name in a job
("importer: tar", with "options:"). Every plugin also takes the option
idle_timeout (default 60s): how long it may stay silent before the ingest
gives up on it.`,
		Args: checkArgs(cobra.NoArgs),
	}
	cmd.AddCommand(newPluginListCmd(a))
	return cmd
}

func newPluginListCmd(a *app) *cobra.Command {
	var refresh bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the importer plugins found, with their name, version, schemes and path",
		Long: `List every plugin executable found in plugins.dir and plugins.paths: its
importer name, version, URL schemes and path, or why it cannot be used
(it does not start, speaks another protocol version, or its name or a
scheme is taken). What each plugin says about itself is cached by path,
size and modification time; --refresh asks every plugin again. A plugin
that cannot be used makes the command exit with code 1.`,
		Example: `  plakar-gw plugin list
  plakar-gw plugin list --json | jq -r '.[].name'`,
		Args: checkArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.config()
			if err != nil {
				return err
			}
			list := gateway.ListPlugins(cmd.Context(), c, refresh)
			if a.json {
				if list == nil {
					list = []gateway.PluginInfo{}
				}
				if err := a.printJSON(list); err != nil {
					return err
				}
			} else if err := printPlugins(a, c, list); err != nil {
				return err
			}
			bad := 0
			for _, p := range list {
				if p.Error != "" {
					bad++
					if !a.json {
						fmt.Fprintf(a.stderr, "plakar-gw: %s: %s\n", p.Path, p.Error)
					}
				}
			}
			if bad > 0 {
				return fmt.Errorf("%d plugins cannot be used", bad)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&refresh, "refresh", false, "start every plugin to ask it again instead of using the cache")
	return cmd
}

func printPlugins(a *app, c *gateway.Config, list []gateway.PluginInfo) error {
	if len(list) == 0 {
		where := "plugins.paths is empty"
		if c.Plugins.Dir != "" {
			where = fmt.Sprintf("nothing executable in %s and plugins.paths is empty", c.Plugins.Dir)
		}
		_, err := fmt.Fprintf(a.stdout, "no importer plugins (%s)\n", where)
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tSCHEMES\tPATH\tSTATUS")
	for _, p := range list {
		status := "ok"
		if p.Error != "" {
			status = "unusable (see below)"
		}
		var schemes []string
		for _, s := range p.Schemes {
			schemes = append(schemes, s+"://")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", orDash(p.Name), orDash(p.Version), orDash(strings.Join(schemes, ",")), p.Path, status)
	}
	return tw.Flush()
}
