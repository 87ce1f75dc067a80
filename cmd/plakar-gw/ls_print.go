package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// lsRow is one listed entry; it is also the JSON form.
type lsRow struct {
	Path    string    `json:"path"`
	Name    string    `json:"-"` // what the table shows
	Type    string    `json:"type"`
	Mode    string    `json:"mode"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
	UID     uint32    `json:"uid"`
	GID     uint32    `json:"gid"`
	User    string    `json:"user,omitempty"`
	Group   string    `json:"group,omitempty"`
	Target  string    `json:"target,omitempty"`
	ETag    string    `json:"etag,omitempty"`
}

// lister prints rows as they come: a table, or a streamed JSON array.
type lister struct {
	a     *app
	count int
}

func newLister(a *app) *lister { return &lister{a: a} }

// info prints an entry from its FileInfo; name is what the table shows.
func (l *lister) info(fsys vfs.FS, p, name string, info fs.FileInfo) error {
	row := lsRow{Path: p, Name: name, Type: typeName(info.Mode()), Mode: modeString(info.Mode()),
		Size: info.Size(), ModTime: info.ModTime()}
	if s, ok := info.Sys().(*vfs.Sys); ok {
		row.UID, row.GID, row.User, row.Group, row.ETag = s.UID, s.GID, s.User, s.Group, s.ETag
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		target, err := fsys.ReadLink(p)
		if err != nil {
			return err
		}
		row.Target = target
	}
	return l.row(row)
}

func (l *lister) row(r lsRow) error {
	l.count++
	if l.a.json {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		sep := ",\n  "
		if l.count == 1 {
			sep = "[\n  "
		}
		_, err = fmt.Fprintf(l.a.stdout, "%s%s", sep, b)
		return err
	}
	owner := orNumber(r.User, r.UID) + "/" + orNumber(r.Group, r.GID)
	name := r.Name
	if r.Target != "" {
		name += " -> " + r.Target
	}
	_, err := fmt.Fprintf(l.a.stdout, "%s  %-17s %12d  %s  %s\n", r.Mode, owner, r.Size,
		r.ModTime.Local().Format(timeLayout), name)
	return err
}

// close ends the JSON array.
func (l *lister) close() error {
	if !l.a.json {
		return nil
	}
	end := "\n]\n"
	if l.count == 0 {
		end = "[]\n"
	}
	_, err := fmt.Fprint(l.a.stdout, end)
	return err
}

func orNumber(name string, id uint32) string {
	if name != "" {
		return name
	}
	return strconv.FormatUint(uint64(id), 10)
}
