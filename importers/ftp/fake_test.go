package ftp_test

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeServer is a minimal FTP server for unit tests: it serves canned
// listings (captured from real servers) for directories and canned files,
// and can drop the connection in the middle of a file. Real servers are
// tested by real_test.go.
type fakeServer struct {
	t        *testing.T
	ln       net.Listener
	mlsd     bool              // advertise MLST and answer MLSD
	listings map[string]string // directory -> raw listing (CRLF lines)
	files    map[string]string // path -> content
	// dropAfter: a RETR of that path sends this many bytes of the file
	// then closes both connections, the first `drops` times.
	dropPath  string
	dropAfter int
	drops     int
	mu        sync.Mutex
	retrs     []string // "path@offset" of each RETR
}

func (s *fakeServer) start() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.t.Fatal(err)
	}
	s.ln = ln
	s.t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return "ftp://user:pass@" + ln.Addr().String()
}

func (s *fakeServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	reply := func(format string, args ...any) { fmt.Fprintf(c, format+"\r\n", args...) }
	reply("220 fake")
	cwd := "/"
	var offset int
	var data net.Listener
	defer func() {
		if data != nil {
			data.Close()
		}
	}()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		switch strings.ToUpper(cmd) {
		case "USER":
			reply("331 password please")
		case "PASS":
			reply("230 in")
		case "FEAT":
			feats := " MDTM\r\n SIZE\r\n REST STREAM\r\n EPSV\r\n"
			if s.mlsd {
				feats += " MLST type*;size*;modify*;\r\n"
			}
			fmt.Fprintf(c, "211-Features:\r\n%s211 End\r\n", feats)
		case "TYPE", "OPTS":
			reply("200 ok")
		case "CWD":
			if _, ok := s.listings[arg]; !ok {
				reply("550 no such directory")
				continue
			}
			cwd = arg
			reply("250 ok")
		case "EPSV":
			if data != nil {
				data.Close()
			}
			data, _ = net.Listen("tcp", "127.0.0.1:0")
			reply("229 Entering Extended Passive Mode (|||%d|)", data.Addr().(*net.TCPAddr).Port)
		case "REST":
			offset, _ = strconv.Atoi(arg)
			reply("350 ok")
		case "MDTM":
			reply("213 20240102030405")
		case "LIST", "MLSD":
			if (cmd == "MLSD") != s.mlsd {
				reply("500 not this one")
				continue
			}
			s.send(c, data, s.listings[cwd], reply)
		case "RETR":
			content, ok := s.files[arg]
			if !ok {
				reply("550 Failed to open file.")
				continue
			}
			s.mu.Lock()
			s.retrs = append(s.retrs, fmt.Sprintf("%s@%d", arg, offset))
			drop := arg == s.dropPath && s.drops > 0
			if drop {
				s.drops--
			}
			s.mu.Unlock()
			content = content[min(offset, len(content)):]
			offset = 0
			if drop {
				dc, err := data.Accept()
				if err != nil {
					return
				}
				reply("150 sending")
				dc.Write([]byte(content[:s.dropAfter]))
				dc.Close()
				return // the control connection drops too
			}
			s.send(c, data, content, reply)
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 %s not implemented", cmd)
		}
	}
}

func (s *fakeServer) send(c net.Conn, data net.Listener, payload string, reply func(string, ...any)) {
	if data == nil {
		reply("425 no data connection")
		return
	}
	dc, err := data.Accept()
	if err != nil {
		return
	}
	reply("150 here it comes")
	dc.Write([]byte(payload))
	dc.Close()
	reply("226 done")
}
