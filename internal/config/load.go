package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Load reads, completes and validates the configuration file at path.
// Every problem found is reported (joined), each naming its key and line;
// errors.Is(err, ErrInvalid) tells a wrong file from an unreadable one.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load for a configuration already in memory; name is used in
// error texts and relative paths are taken from its directory.
func Parse(name string, data []byte) (*Config, error) {
	c, err := decode(name, data)
	if err != nil {
		return nil, err
	}
	dir := ""
	if name != "" {
		dir = filepath.Dir(name)
	}
	c.applyDefaults(dir)
	if err := c.resolveSecrets(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// decode parses YAML strictly: unknown keys are errors, so a misspelt key
// is not silently ignored.
func decode(name string, data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &KeyError{File: name, Msg: quotedValueRe.ReplaceAllString(err.Error(), "value")}
	}
	c := &Config{file: name, keys: indexKeys(&doc)}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(c)
	var te *yaml.TypeError
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return c, nil
	case errors.As(err, &te):
		return nil, c.keys.typeErrors(name, te)
	default:
		return nil, &KeyError{File: name, Msg: quotedValueRe.ReplaceAllString(err.Error(), "value")}
	}
}

// resolveSecrets replaces env: and file: references by their values.
func (c *Config) resolveSecrets() error {
	var errs []error
	for _, name := range sortedKeys(c.Providers) {
		p := c.Providers[name]
		if p == nil {
			continue
		}
		v, err := p.ClientSecret.resolve()
		if err != nil {
			errs = append(errs, c.keyErr("providers."+name+".client_secret", "%s", err.Error()))
		}
		p.ClientSecret = v
	}
	v, err := c.Store.DSN.resolve()
	if err != nil {
		errs = append(errs, c.keyErr("store.dsn", "%s", err.Error()))
	}
	c.Store.DSN = v
	if err := c.resolveAdmin(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// keyErr builds a KeyError for key, with its line when the file has it.
func (c *Config) keyErr(key, format string, args ...any) *KeyError {
	return &KeyError{File: c.file, Line: c.keys.line(key), Key: key, Msg: fmt.Sprintf(format, args...)}
}

// File returns the file the configuration was loaded from (empty for the
// built-in default).
func (c *Config) File() string { return c.file }
