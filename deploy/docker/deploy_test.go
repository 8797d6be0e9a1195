// Tests that keep the container files in step with each other and with the
// configuration they ship: a port exposed but not listened on, a health
// check on the wrong port, or a state volume beside the state directory
// would each make a container that builds but does not work.
package docker_test

import (
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/oauthbridge/oauthbridge/internal/config"
)

func loadConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load("oauthbridge.yaml")
	if err != nil {
		t.Fatalf("the image's configuration does not load: %v", err)
	}
	return cfg
}

// listenPorts are the ports of the configured listeners, sorted.
func listenPorts(t *testing.T, cfg *config.Config) []string {
	var ports []string
	for _, l := range cfg.Listen.All() {
		_, port, err := net.SplitHostPort(l.Addr)
		if err != nil {
			t.Fatalf("listen.%s: %v", l.Name, err)
		}
		ports = append(ports, port)
	}
	slices.Sort(ports)
	return ports
}

func dockerfile(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// instruction returns the arguments of the Dockerfile's last line starting
// with name (joined with its continuation lines).
func instruction(t *testing.T, df, name string) string {
	t.Helper()
	joined := strings.ReplaceAll(df, "\\\n", " ")
	var last string
	for _, line := range strings.Split(joined, "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			last = strings.TrimSpace(rest)
		}
	}
	if last == "" {
		t.Fatalf("Dockerfile has no %s", name)
	}
	return last
}

func TestDockerfileMatchesConfig(t *testing.T) {
	cfg := loadConfig(t)
	df := dockerfile(t)
	exposed := strings.Fields(instruction(t, df, "EXPOSE"))
	slices.Sort(exposed)
	if want := listenPorts(t, cfg); !slices.Equal(exposed, want) {
		t.Errorf("EXPOSE %v, but the configuration listens on %v", exposed, want)
	}
	if v := instruction(t, df, "VOLUME"); v != `["`+cfg.StateDir+`"]` {
		t.Errorf("VOLUME %s, want the state_dir %s", v, cfg.StateDir)
	}
	_, httpPort, _ := net.SplitHostPort(cfg.Listen.HTTP)
	if hc := instruction(t, df, "HEALTHCHECK"); !strings.Contains(hc, "127.0.0.1:"+httpPort+"/healthz") {
		t.Errorf("HEALTHCHECK %s does not check /healthz on the http port %s", hc, httpPort)
	} else if !strings.Contains(hc, `["/usr/local/bin/oauthbridge", "healthcheck"`) {
		t.Errorf("HEALTHCHECK %s does not use the image's own binary (oauthbridge healthcheck)", hc)
	}
	if u := instruction(t, df, "USER"); u != "65532:65532" {
		t.Errorf("USER %s, want the distroless nonroot user", u)
	}
	if !regexp.MustCompile(`(?m)CGO_ENABLED=0 go build .* ./cmd/oauthbridge`).MatchString(strings.ReplaceAll(df, "\\\n", " ")) {
		t.Error("the binary is not built static (CGO_ENABLED=0)")
	}
}

// compose is the part of compose.yaml the test checks.
type compose struct {
	Services map[string]struct {
		User        string   `yaml:"user"`
		ReadOnly    bool     `yaml:"read_only"`
		CapDrop     []string `yaml:"cap_drop"`
		Ports       []string `yaml:"ports"`
		Volumes     []string `yaml:"volumes"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func TestComposeMatchesConfig(t *testing.T) {
	cfg := loadConfig(t)
	data, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	svc, ok := c.Services["oauthbridge"]
	if !ok {
		t.Fatal("compose.yaml has no oauthbridge service")
	}
	var published []string
	for _, p := range svc.Ports {
		parts := strings.Split(p, ":")
		if len(parts) != 3 || parts[1] != parts[2] || !net.ParseIP(parts[0]).IsLoopback() {
			t.Errorf("port %q: want 127.0.0.1:N:N (loopback by default, same port inside)", p)
		}
		published = append(published, parts[len(parts)-1])
	}
	slices.Sort(published)
	if want := listenPorts(t, cfg); !slices.Equal(published, want) {
		t.Errorf("published %v, but the configuration listens on %v", published, want)
	}
	if !slices.Contains(svc.Volumes, "state:"+cfg.StateDir) || !hasKey(c.Volumes, "state") {
		t.Errorf("volumes %v: want the named volume state on %s", svc.Volumes, cfg.StateDir)
	}
	if svc.User != "65532:65532" || !svc.ReadOnly || !slices.Equal(svc.CapDrop, []string{"ALL"}) {
		t.Errorf("service runs as %q, read_only %v, cap_drop %v; want nonroot, read-only, no capabilities", svc.User, svc.ReadOnly, svc.CapDrop)
	}
	if hc := strings.Join(svc.Healthcheck.Test, " "); !strings.Contains(hc, "/healthz") || !strings.Contains(hc, "/usr/local/bin/oauthbridge healthcheck") {
		t.Errorf("healthcheck %q does not run oauthbridge healthcheck on /healthz", hc)
	}
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}
