package plugin

import "syscall"

// sysProcAttr makes the kernel kill the plugin when plakar-gw dies, even
// by SIGKILL; the SDK's stdin watch is the second guard. Its own process
// group keeps a terminal's Ctrl-C for plakar-gw, which stops it in order.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
