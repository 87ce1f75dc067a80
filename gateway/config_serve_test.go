package gateway

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeConfigErrors: every kind of bad serve configuration is refused
// at load, with the key named.
func TestServeConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name, body string
		want       []string // substrings of the error
	}{
		{"unknown top-level key", "listners:\n  s3:\n    enabled: true\n", []string{`"listners.s3.enabled"`}},
		{"unknown listener key", "listeners:\n  s3:\n    adress: 1.2.3.4:5\n", []string{`"listeners.s3.adress"`}},
		{"unknown job field", "jobs:\n  - name: a\n    source: /x\n    shedule: 1h\n", []string{"shedule"}},
		{"unknown user field", "users:\n  - name: a\n    pasword_hash: x\n", []string{"pasword_hash"}},
		{"bad address", "listeners:\n  s3:\n    enabled: true\n    addr: localhost\n", []string{"listeners.s3.addr", "localhost"}},
		{"bad port", "listeners:\n  webdav:\n    enabled: true\n    addr: 127.0.0.1:99999\n", []string{"listeners.webdav.addr"}},
		{"unreadable TLS file", "listeners:\n  webdav:\n    enabled: true\n    addr: 127.0.0.1:0\n    tls_cert: /nonexistent/cert.pem\n    tls_key: /nonexistent/key.pem\n",
			[]string{"listeners.webdav.tls_", "/nonexistent/"}},
		{"TLS cert without key", "listeners:\n  metrics:\n    enabled: true\n    addr: 127.0.0.1:0\n    tls_cert: /x\n", []string{"listeners.metrics", "tls_key"}},
		{"duplicate job name", "jobs:\n  - name: a\n    source: /x\n  - name: a\n    source: /y\n", []string{"jobs[1] (a).name", "duplicate"}},
		{"bad cron", "jobs:\n  - name: a\n    source: /x\n    schedule: \"61 * * * *\"\n", []string{"jobs[0] (a).schedule"}},
		{"interval too short", "jobs:\n  - name: a\n    source: /x\n    schedule: 10ms\n", []string{"jobs[0] (a).schedule", "shorter than a second"}},
		{"job name not a bucket name", "jobs:\n  - name: Web_Site\n    source: /x\n", []string{"jobs[0] (Web_Site).name"}},
		{"job without source", "jobs:\n  - name: a\n", []string{"jobs[0] (a).source"}},
		{"unknown importer", "jobs:\n  - name: a\n    source: /x\n    importer: nfs\n", []string{"jobs[0] (a).importer", "nfs"}},
		{"negative retention", "jobs:\n  - name: a\n    source: /x\n    retention:\n      keep_daily: -1\n", []string{"jobs[0] (a).retention.keep_daily"}},
		{"bad duration", "shutdown_timeout: soon\n", []string{"shutdown_timeout"}},
		{"zero concurrency", "max_concurrent_jobs: 0\n", []string{"max_concurrent_jobs"}},
		{"user without credentials", "users:\n  - name: a\n", []string{"users[0] (a)", "no credentials"}},
		{"user key without secret", "users:\n  - name: a\n    access_key_id: K\n", []string{"users[0] (a)", "secret"}},
		{"duplicate user", "users:\n  - name: a\n    password_hash: '$2a$10$CntsgONQFcIPBCebsbK85uYvVOvXGx9lUqAkqs1I6xxH/QMEQiiEq'\n  - name: a\n    password_hash: '$2a$10$CntsgONQFcIPBCebsbK85uYvVOvXGx9lUqAkqs1I6xxH/QMEQiiEq'\n",
			[]string{"users[1] (a).name", "duplicate"}},
		{"password not bcrypt", "users:\n  - name: a\n    password_hash: hunter2\n", []string{"users[0] (a).password_hash"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := isolate(t)
			file := writeConfig(t, filepath.Join(dir, "c.yaml"), c.body)
			_, err := Load(LoadOptions{File: file})
			if err == nil {
				t.Fatalf("accepted:\n%s", c.body)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestServeConfigValues(t *testing.T) {
	dir := isolate(t)
	file := writeConfig(t, filepath.Join(dir, "c.yaml"), `
listeners:
  s3: {enabled: true, addr: "127.0.0.1:0", region: eu-west-3}
jobs:
  - name: docs
    source: /srv/docs
    schedule: 15m
    retention: {keep_last: 2, keep_within: 48h}
max_concurrent_jobs: 2
shutdown_timeout: 5s
`)
	t.Setenv("PLAKAR_GW_WEBDAV_ENABLED", "true")
	c, err := Load(LoadOptions{File: file})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Listeners.S3.Enabled || c.Listeners.S3.Region != "eu-west-3" || !c.Listeners.WebDAV.Enabled || c.Listeners.WebDAV.Addr != "127.0.0.1:9001" {
		t.Errorf("listeners %+v", c.Listeners)
	}
	j, ok := c.Job("docs")
	if !ok || j.Importer != "fs" || j.Retention.KeepLast != 2 || j.Retention.KeepWithin != 48*time.Hour {
		t.Errorf("job %+v", j)
	}
	if c.MaxConcurrentJobs != 2 || c.ShutdownTimeout != 5*time.Second {
		t.Errorf("max %d, timeout %v", c.MaxConcurrentJobs, c.ShutdownTimeout)
	}
	sch, _ := ParseSchedule(j.Schedule)
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := sch.Next(now); got != now.Add(15*time.Minute) {
		t.Errorf("next run %v", got)
	}
}
