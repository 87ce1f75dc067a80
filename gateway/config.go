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
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Config is everything read from flags, the environment and the config
// file. Precedence: a flag that was set, then the environment, then the
// config file, then the default.
type Config struct {
	Repository RepositoryConfig `mapstructure:"repository"`
	Log        LogConfig        `mapstructure:"log"`
	Signing    SigningConfig    `mapstructure:"signing"`

	// File is the config file that was read, "" when none was.
	File string `mapstructure:"-"`
	// Prompt asks a person for a secret; nil when nobody can be asked.
	Prompt func(msg string) ([]byte, error) `mapstructure:"-"`

	passphraseFileFlag bool // repository.passphrase_file came from a flag
}

// RepositoryConfig says where the repository is and how to open it.
type RepositoryConfig struct {
	Path           string `mapstructure:"path"`
	PassphraseFile string `mapstructure:"passphrase_file"`
	CacheDir       string `mapstructure:"cache_dir"`
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
	{"log.format", []string{EnvPrefix + "LOG_FORMAT"}, func() string { return "text" }},
	{"signing.key", []string{EnvPrefix + "SIGNING_KEY"}, nil},
	{"signing.trusted_keys", []string{EnvPrefix + "SIGNING_TRUSTED_KEYS"}, nil},
	{"signing.require_signature", []string{EnvPrefix + "SIGNING_REQUIRE_SIGNATURE"}, func() string { return "false" }},
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
	if err := v.Unmarshal(c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if f := o.Flags["repository.passphrase_file"]; f != nil && f.Changed {
		c.passphraseFileFlag = true
	}
	return c, c.validate()
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
		if !slices.ContainsFunc(keys, func(x key) bool { return x.name == k }) {
			unknown = append(unknown, fmt.Sprintf("%q", k))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("config file %s: unknown key %s", file, strings.Join(unknown, ", "))
	}
	return nil
}

func (c *Config) validate() error {
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
	return nil
}
