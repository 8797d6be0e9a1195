package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/oauthbridge/oauthbridge/internal/config"
)

// localConfigName is the configuration file looked for in the working
// directory.
const localConfigName = "oauthbridge.yaml"

// errNoConfig: neither --config nor any default configuration file exists.
var errNoConfig = errors.New("no configuration file")

// findConfig returns the configuration file to load: the --config value
// (which must exist), else ./oauthbridge.yaml, else the per-user file.
func findConfig(flagPath string) (string, error) {
	if flagPath != "" {
		if _, err := os.Stat(flagPath); err != nil {
			return "", fmt.Errorf("--config: %w", err)
		}
		return flagPath, nil
	}
	for _, p := range []string{localConfigName, config.DefaultConfigPath()} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("config %s: %w", p, err)
		}
	}
	return "", errNoConfig
}

// loadConfig finds and loads the configuration; with none, it returns the
// built-in default and an empty path.
func loadConfig(flagPath string) (*config.Config, string, error) {
	path, err := findConfig(flagPath)
	if errors.Is(err, errNoConfig) {
		return config.Default(), "", nil
	}
	if err != nil {
		return nil, "", err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, path, err
	}
	return cfg, path, nil
}
