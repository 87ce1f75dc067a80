package plugin

// PidOf exposes the plugin process id to the tests, which check that no
// process is left behind.
func PidOf(imp *Importer) int { return imp.proc.cmd.Process.Pid }
