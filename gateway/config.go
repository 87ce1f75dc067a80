// Package gateway owns the wiring between configuration and the engine:
// loading the configuration (flags, environment, file), getting the
// passphrase, opening the repository's store and the repository, the
// registry of importers, and logging. The CLI and the server both start
// here, so they read the same keys the same way.
package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"golang.org/x/crypto/bcrypt"

	"github.com/plakar-gw/plakar-gw/engine/retention"
)

// Config is everything read from flags, the environment and the config
// file. Precedence: a flag that was set, then the environment, then the
// config file, then the default.
type Config struct {
	Repository RepositoryConfig `mapstructure:"repository"`
	Log        LogConfig        `mapstructure:"log"`
	Signing    SigningConfig    `mapstructure:"signing"`
	Listeners  ListenersConfig  `mapstructure:"listeners"`
	// Anonymous lets unauthenticated clients read every snapshot.
	Anonymous bool         `mapstructure:"anonymous"`
	Users     []UserConfig `mapstructure:"users"`
	Jobs      []JobConfig  `mapstructure:"jobs"`
	// MaxConcurrentJobs bounds the ingest jobs running at once in serve.
	MaxConcurrentJobs int `mapstructure:"max_concurrent_jobs"`
	// ShutdownTimeout is how long serve lets requests in flight finish
	// after SIGTERM.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`
	Plugins         PluginsConfig `mapstructure:"plugins"`

	// File is the config file that was read, "" when none was.
	File string `mapstructure:"-"`
	// Prompt asks a person for a secret; nil when nobody can be asked.
	Prompt func(msg string) ([]byte, error) `mapstructure:"-"`

	passphraseFileFlag bool // repository.passphrase_file came from a flag
}

// RepositoryConfig says where the repository is and how to open it.
type RepositoryConfig struct {
	// Path is a folder, or s3://bucket/prefix for object storage.
	Path           string   `mapstructure:"path"`
	PassphraseFile string   `mapstructure:"passphrase_file"`
	CacheDir       string   `mapstructure:"cache_dir"`
	S3             S3Config `mapstructure:"s3"`
}

// S3Config reaches a repository on S3-compatible object storage.
type S3Config struct {
	Endpoint  string `mapstructure:"endpoint"` // empty: AWS
	Region    string `mapstructure:"region"`
	PathStyle bool   `mapstructure:"path_style"`
	// Credentials: a key pair (the secret from a file), a shared profile,
	// or else the SDK's default chain (AWS_* environment, instance role).
	AccessKeyID         string `mapstructure:"access_key_id"`
	SecretAccessKeyFile string `mapstructure:"secret_access_key_file"`
	Profile             string `mapstructure:"profile"`
	// ChunkCacheMB bounds the disk cache of hot chunks in MiB; 0 turns it
	// off.
	ChunkCacheMB int64 `mapstructure:"chunk_cache_mb"`
}

// LogConfig selects the log format.
type LogConfig struct {
	Format string `mapstructure:"format"` // "text" or "json"
}

// SigningConfig holds the snapshot signing settings.
type SigningConfig struct {
	// Key is the private key file that signs new snapshots.
	Key string `mapstructure:"key"`
	// TrustedKeys are public keys in their one-line text form.
	TrustedKeys []string `mapstructure:"trusted_keys"`
	// RequireSignature hides snapshots without a valid signature by a
	// trusted key from the frontends.
	RequireSignature bool `mapstructure:"require_signature"`
}

// PluginsConfig says where importer plugins are found.
type PluginsConfig struct {
	// Dir is searched for plugin executables.
	Dir string `mapstructure:"dir"`
	// Paths are plugin executables named explicitly.
	Paths []string `mapstructure:"paths"`
}

// ListenersConfig holds the servers of "plakar-gw serve".
type ListenersConfig struct {
	S3      ListenerConfig `mapstructure:"s3"`
	WebDAV  ListenerConfig `mapstructure:"webdav"`
	UI      ListenerConfig `mapstructure:"ui"`
	Metrics ListenerConfig `mapstructure:"metrics"`
}

// ListenerConfig is one server: on or off, where, and optional TLS.
type ListenerConfig struct {
	Enabled bool   `mapstructure:"enabled"`
	Addr    string `mapstructure:"addr"`
	TLSCert string `mapstructure:"tls_cert"`
	TLSKey  string `mapstructure:"tls_key"`
	// Region is the region S3 requests must be signed for ("" = any); S3 only.
	Region string `mapstructure:"region"`
}

// UserConfig is one user of the frontends.
type UserConfig struct {
	Name string `mapstructure:"name"`
	// AccessKeyID and the secret sign S3 requests.
	AccessKeyID         string `mapstructure:"access_key_id"`
	SecretAccessKey     string `mapstructure:"secret_access_key"`
	SecretAccessKeyFile string `mapstructure:"secret_access_key_file"`
	// PasswordHash is the bcrypt hash of the WebDAV and UI password.
	PasswordHash string `mapstructure:"password_hash"`
	// Jobs and Snapshots limit what the user may read; both empty means
	// everything. Snapshots are ids or unique prefixes.
	Jobs      []string `mapstructure:"jobs"`
	Snapshots []string `mapstructure:"snapshots"`
}

// JobConfig is one ingest job.
type JobConfig struct {
	Name string `mapstructure:"name"`
	// Importer is the importer type; empty picks it from Source's URL
	// scheme (a plain path is fs). Source is what it reads; Options are
	// the importer's own settings.
	Importer string            `mapstructure:"importer"`
	Source   string            `mapstructure:"source"`
	Options  map[string]string `mapstructure:"options"`
	Tags     []string          `mapstructure:"tags"`
	// Schedule is an interval ("30m", "@every 1h"), a cron expression
	// ("0 3 * * *") or a descriptor ("@daily"); empty runs only on demand.
	Schedule string `mapstructure:"schedule"`
	// SignKey is a private key file signing this job's snapshots; it
	// defaults to signing.key.
	SignKey   string           `mapstructure:"sign_key"`
	Retention retention.Policy `mapstructure:"retention"`
}

// EnvPrefix starts the name of every environment variable read.
const EnvPrefix = "PLAKAR_GW_"

// EnvConfig names the config file, like --config.
const EnvConfig = EnvPrefix + "CONFIG"

// key is one configuration key: its environment variables and default.
type key struct {
	name string
	env  []string
	def  func() string
}

var keys = []key{
	{"repository.path", []string{EnvPrefix + "REPO", EnvPrefix + "REPOSITORY_PATH"}, defaultRepo},
	{"repository.passphrase_file", []string{EnvPrefix + "PASSPHRASE_FILE"}, nil},
	{"repository.cache_dir", []string{EnvPrefix + "CACHE_DIR"}, nil},
	{"repository.s3.endpoint", []string{EnvPrefix + "REPO_S3_ENDPOINT"}, nil},
	{"repository.s3.region", []string{EnvPrefix + "REPO_S3_REGION"}, nil},
	{"repository.s3.path_style", []string{EnvPrefix + "REPO_S3_PATH_STYLE"}, func() string { return "false" }},
	{"repository.s3.access_key_id", []string{EnvPrefix + "REPO_S3_ACCESS_KEY_ID"}, nil},
	{"repository.s3.secret_access_key_file", []string{EnvPrefix + "REPO_S3_SECRET_ACCESS_KEY_FILE"}, nil},
	{"repository.s3.profile", []string{EnvPrefix + "REPO_S3_PROFILE"}, nil},
	{"repository.s3.chunk_cache_mb", []string{EnvPrefix + "REPO_S3_CHUNK_CACHE_MB"}, func() string { return "1024" }},
	{"log.format", []string{EnvPrefix + "LOG_FORMAT"}, func() string { return "text" }},
	{"signing.key", []string{EnvPrefix + "SIGNING_KEY"}, nil},
	{"signing.trusted_keys", []string{EnvPrefix + "SIGNING_TRUSTED_KEYS"}, nil},
	{"signing.require_signature", []string{EnvPrefix + "SIGNING_REQUIRE_SIGNATURE"}, func() string { return "false" }},
	{"listeners.s3.enabled", []string{EnvPrefix + "S3_ENABLED"}, func() string { return "false" }},
	{"listeners.s3.addr", []string{EnvPrefix + "S3_ADDR"}, func() string { return "127.0.0.1:9000" }},
	{"listeners.s3.tls_cert", []string{EnvPrefix + "S3_TLS_CERT"}, nil},
	{"listeners.s3.tls_key", []string{EnvPrefix + "S3_TLS_KEY"}, nil},
	{"listeners.s3.region", []string{EnvPrefix + "S3_REGION"}, nil},
	{"listeners.webdav.enabled", []string{EnvPrefix + "WEBDAV_ENABLED"}, func() string { return "false" }},
	{"listeners.webdav.addr", []string{EnvPrefix + "WEBDAV_ADDR"}, func() string { return "127.0.0.1:9001" }},
	{"listeners.webdav.tls_cert", []string{EnvPrefix + "WEBDAV_TLS_CERT"}, nil},
	{"listeners.webdav.tls_key", []string{EnvPrefix + "WEBDAV_TLS_KEY"}, nil},
	{"listeners.ui.enabled", []string{EnvPrefix + "UI_ENABLED"}, func() string { return "false" }},
	{"listeners.ui.addr", []string{EnvPrefix + "UI_ADDR"}, func() string { return "127.0.0.1:9002" }},
	{"listeners.ui.tls_cert", []string{EnvPrefix + "UI_TLS_CERT"}, nil},
	{"listeners.ui.tls_key", []string{EnvPrefix + "UI_TLS_KEY"}, nil},
	{"listeners.metrics.enabled", []string{EnvPrefix + "METRICS_ENABLED"}, func() string { return "false" }},
	{"listeners.metrics.addr", []string{EnvPrefix + "METRICS_ADDR"}, func() string { return "127.0.0.1:9003" }},
	{"listeners.metrics.tls_cert", []string{EnvPrefix + "METRICS_TLS_CERT"}, nil},
	{"listeners.metrics.tls_key", []string{EnvPrefix + "METRICS_TLS_KEY"}, nil},
	{"anonymous", []string{EnvPrefix + "ANONYMOUS"}, func() string { return "false" }},
	{"max_concurrent_jobs", []string{EnvPrefix + "MAX_CONCURRENT_JOBS"}, func() string { return "1" }},
	{"shutdown_timeout", []string{EnvPrefix + "SHUTDOWN_TIMEOUT"}, func() string { return "30s" }},
	{"plugins.dir", []string{EnvPrefix + "PLUGINS_DIR"}, defaultPluginsDir},
	{"plugins.paths", []string{EnvPrefix + "PLUGINS_PATHS"}, nil},
	// Lists of tables: only in the file; their fields are checked when
	// decoding (an unknown field is an error naming it).
	{"users", nil, nil},
	{"jobs", nil, nil},
}

// Keys lists every configuration key, for documentation and tests.
func Keys() []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.name
	}
	return out
}

// LoadOptions say where configuration comes from besides the environment.
type LoadOptions struct {
	// File is an explicit config file, which must exist. Empty means
	// $PLAKAR_GW_CONFIG, else the first of DefaultFiles that exists.
	File string
	// Flags maps a config key to the flag that sets it; a flag counts
	// only when it was set on the command line.
	Flags map[string]*pflag.Flag
}

// DefaultFiles are the config files searched when none is named.
func DefaultFiles() []string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".config")
		}
	}
	var out []string
	if dir != "" {
		out = append(out, filepath.Join(dir, "plakar-gw", "config.yaml"))
	}
	return append(out, "/etc/plakar-gw/config.yaml")
}

func defaultPluginsDir() string {
	if r := defaultRepo(); r != "" {
		return filepath.Join(filepath.Dir(r), "plugins")
	}
	return ""
}

func defaultRepo() string {
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "plakar-gw", "repo")
}

// Load reads the configuration. A config file with a key this version does
// not know is an error naming the key.
func Load(o LoadOptions) (*Config, error) {
	v := viper.New()
	file, err := configFile(o.File)
	if err != nil {
		return nil, err
	}
	if file != "" {
		if err := readFile(v, file); err != nil {
			return nil, err
		}
	}
	for _, k := range keys {
		if k.def != nil {
			v.SetDefault(k.name, k.def())
		}
		v.BindEnv(append([]string{k.name}, k.env...)...)
		if f := o.Flags[k.name]; f != nil {
			v.BindPFlag(k.name, f)
		}
	}
	c := &Config{File: file}
	if err := v.Unmarshal(c, viper.DecoderConfigOption(func(dc *mapstructure.DecoderConfig) { dc.ErrorUnused = true })); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if f := o.Flags["repository.passphrase_file"]; f != nil && f.Changed {
		c.passphraseFileFlag = true
	}
	// Plugins register their importer types before jobs are checked.
	if err := registerPlugins(c); err != nil {
		return nil, err
	}
	return c, c.Validate()
}

// configFile picks the file to read; "" when there is none to read.
func configFile(explicit string) (string, error) {
	if explicit == "" {
		explicit = os.Getenv(EnvConfig)
	}
	if explicit != "" {
		return explicit, nil
	}
	for _, f := range DefaultFiles() {
		if _, err := os.Stat(f); err == nil {
			return f, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("config file: %w", err)
		}
	}
	return "", nil
}

func readFile(v *viper.Viper, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(b)); err != nil {
		return fmt.Errorf("config file %s: %w", file, err)
	}
	var unknown []string
	for _, k := range v.AllKeys() {
		// An empty section ("plugins:" with every field commented out)
		// shows as a key of its own.
		if !slices.ContainsFunc(keys, func(x key) bool { return x.name == k || strings.HasPrefix(x.name, k+".") }) {
			unknown = append(unknown, fmt.Sprintf("%q", k))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("config file %s: unknown key %s", file, strings.Join(unknown, ", "))
	}
	return nil
}

// Validate checks every value; Load calls it, and a command that changes
// the configuration from its own flags calls it again.
func (c *Config) Validate() error {
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log format %q: want text or json", c.Log.Format)
	}
	if _, err := c.TrustedKeys(); err != nil {
		return err
	}
	if c.Repository.Path == "" {
		return errors.New("no repository path: use --repo, " + EnvPrefix + "REPO or repository.path")
	}
	for name, l := range map[string]ListenerConfig{"s3": c.Listeners.S3, "webdav": c.Listeners.WebDAV, "ui": c.Listeners.UI, "metrics": c.Listeners.Metrics} {
		if err := l.validate("listeners." + name); err != nil {
			return err
		}
	}
	if c.Repository.S3.ChunkCacheMB < 0 {
		return fmt.Errorf("repository.s3.chunk_cache_mb: %d is negative", c.Repository.S3.ChunkCacheMB)
	}
	if c.MaxConcurrentJobs < 1 {
		return fmt.Errorf("max_concurrent_jobs: %d, want at least 1", c.MaxConcurrentJobs)
	}
	if c.ShutdownTimeout < 0 {
		return fmt.Errorf("shutdown_timeout: %v is negative", c.ShutdownTimeout)
	}
	if err := c.validateUsers(); err != nil {
		return err
	}
	return c.validateJobs()
}

func (l ListenerConfig) validate(key string) error {
	if !l.Enabled {
		return nil
	}
	if _, port, err := net.SplitHostPort(l.Addr); err != nil {
		return fmt.Errorf("%s.addr: %q is not host:port: %v", key, l.Addr, err)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%s.addr: %q: bad port", key, l.Addr)
	}
	if (l.TLSCert == "") != (l.TLSKey == "") {
		return fmt.Errorf("%s: tls_cert and tls_key go together", key)
	}
	for k, f := range map[string]string{"tls_cert": l.TLSCert, "tls_key": l.TLSKey} {
		if f == "" {
			continue
		}
		if _, err := os.ReadFile(f); err != nil {
			return fmt.Errorf("%s.%s: %v", key, k, err)
		}
	}
	return nil
}

func (c *Config) validateUsers() error {
	names, keys := map[string]bool{}, map[string]bool{}
	for i, u := range c.Users {
		at := fmt.Sprintf("users[%d]", i)
		if u.Name == "" {
			return fmt.Errorf("%s.name: missing", at)
		}
		at = fmt.Sprintf("users[%d] (%s)", i, u.Name)
		if names[u.Name] {
			return fmt.Errorf("%s.name: duplicate user name", at)
		}
		names[u.Name] = true
		if u.SecretAccessKey != "" && u.SecretAccessKeyFile != "" {
			return fmt.Errorf("%s: secret_access_key and secret_access_key_file both set", at)
		}
		hasSecret := u.SecretAccessKey != "" || u.SecretAccessKeyFile != ""
		if (u.AccessKeyID == "") == hasSecret {
			return fmt.Errorf("%s: access_key_id needs a secret (secret_access_key or secret_access_key_file), and the other way round", at)
		}
		if u.AccessKeyID != "" {
			if keys[u.AccessKeyID] {
				return fmt.Errorf("%s.access_key_id: used by another user", at)
			}
			keys[u.AccessKeyID] = true
		}
		if u.PasswordHash != "" {
			if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil {
				return fmt.Errorf("%s.password_hash: not a bcrypt hash: %v", at, err)
			}
		}
		if u.AccessKeyID == "" && u.PasswordHash == "" {
			return fmt.Errorf("%s: no credentials (access_key_id or password_hash)", at)
		}
	}
	return nil
}

func (c *Config) validateJobs() error {
	names := map[string]bool{}
	for i, j := range c.Jobs {
		at := fmt.Sprintf("jobs[%d]", i)
		if j.Name == "" {
			return fmt.Errorf("%s.name: missing", at)
		}
		at = fmt.Sprintf("jobs[%d] (%s)", i, j.Name)
		if !validJobName(j.Name) {
			return fmt.Errorf("%s.name: use lowercase letters, digits and '-' (it names the bucket %s-latest)", at, j.Name)
		}
		if names[j.Name] {
			return fmt.Errorf("%s.name: duplicate job name", at)
		}
		names[j.Name] = true
		if j.Importer == "" {
			c.Jobs[i].Importer = ImporterFor(j.Source)
		} else if _, ok := importerFactories[j.Importer]; !ok {
			return fmt.Errorf("%s.importer: unknown importer %q (known: %v)", at, j.Importer, ImporterTypes())
		}
		if j.Source == "" {
			return fmt.Errorf("%s.source: missing", at)
		}
		if j.Schedule != "" {
			if _, err := ParseSchedule(j.Schedule); err != nil {
				return fmt.Errorf("%s.schedule: %v", at, err)
			}
		}
		if err := j.Retention.Validate(); err != nil {
			return fmt.Errorf("%s.retention.%v", at, err)
		}
	}
	return nil
}

// validJobName keeps "<job>-latest" a valid S3 bucket name and a plain
// folder name.
func validJobName(s string) bool {
	if len(s) == 0 || len(s) > 56 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// Job returns the configured job called name.
func (c *Config) Job(name string) (JobConfig, bool) {
	for _, j := range c.Jobs {
		if j.Name == name {
			return j, true
		}
	}
	return JobConfig{}, false
}
