//go:build unix && !linux

package plugin

import "syscall"

// sysProcAttr: without Pdeathsig, the SDK's stdin watch alone ends a
// plugin whose host is gone.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
