// Package webui will own the browser interface over engine/vfs (issue 11).
// It holds no code yet.
package webui
