package kubernetes_test

import (
	"fmt"
	"maps"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/oauthbridge/oauthbridge/internal/config"
)

// deployment returns the Deployment and its one container.
func deployment(t *testing.T, all map[string][]object) (object, container) {
	t.Helper()
	d := only(t, all, "Deployment")
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(d.Spec.Template.Spec.Containers))
	}
	return d, d.Spec.Template.Spec.Containers[0]
}

// loadConfig parses the ConfigMap's configuration the way a pod would:
// with every variable the container's env sets.
func loadConfig(t *testing.T, all map[string][]object, c container) (*config.Config, string) {
	t.Helper()
	for _, e := range c.Env {
		t.Setenv(e.Name, "value-of-"+e.Name)
	}
	text := only(t, all, "ConfigMap").Data["oauthbridge.yaml"]
	if text == "" {
		t.Fatal("the ConfigMap has no oauthbridge.yaml")
	}
	cfg, err := config.Parse("/etc/oauthbridge/config/oauthbridge.yaml", []byte(text))
	if err != nil {
		t.Fatalf("the ConfigMap's configuration does not load with the Deployment's env: %v", err)
	}
	return cfg, text
}

func TestConfigLoadsAndUsesPostgres(t *testing.T) {
	all := manifests(t)
	_, c := deployment(t, all)
	cfg, text := loadConfig(t, all, c)
	if cfg.Store.Driver != "postgres" {
		t.Errorf("store.driver = %q: replicas must share the postgres store", cfg.Store.Driver)
	}
	if cfg.TLS.Cert == "" {
		t.Error("no tls.cert: each replica would make its own self-signed certificate")
	}
	if len(cfg.InlineSecrets()) > 0 {
		t.Errorf("the ConfigMap holds secrets %v: use env:NAME and the Secret", cfg.InlineSecrets())
	}
	// Every env:NAME must be set by the container from a key the Secret has.
	secret := only(t, all, "Secret")
	env := map[string]string{}
	for _, e := range c.Env {
		ref := e.ValueFrom.SecretKeyRef
		if ref.Name != secret.Metadata.Name || secret.StringData[ref.Key] == "" {
			t.Errorf("env %s: from secret %s key %q, which secret.yaml does not define", e.Name, ref.Name, ref.Key)
		}
		env[e.Name] = ref.Key
	}
	for _, m := range regexp.MustCompile(`env:([A-Z0-9_]+)`).FindAllStringSubmatch(text, -1) {
		if _, ok := env[m[1]]; !ok {
			t.Errorf("the configuration reads env:%s, which the container does not set", m[1])
		}
	}
}

func TestContainerListensWhereConfigured(t *testing.T) {
	all := manifests(t)
	_, c := deployment(t, all)
	cfg, _ := loadConfig(t, all, c)
	byName := map[string]int{}
	for _, p := range c.Ports {
		byName[p.Name] = p.ContainerPort
	}
	want := map[string]string{"imap": "imap", "imaps": "imaps", "pop3": "pop3", "pop3s": "pop3s",
		"smtp": "submission", "smtps": "submissions", "http": "http"}
	for _, l := range cfg.Listen.All() {
		host, port, err := net.SplitHostPort(l.Addr)
		if err != nil || host != "0.0.0.0" {
			t.Errorf("listen.%s = %q, want 0.0.0.0:port inside a pod", l.Name, l.Addr)
		}
		if strconv.Itoa(byName[want[l.Name]]) != port {
			t.Errorf("listen.%s on %s, but container port %q is %d", l.Name, port, want[l.Name], byName[want[l.Name]])
		}
	}
	if len(c.Ports) != len(cfg.Listen.All()) {
		t.Errorf("%d container ports for %d listeners", len(c.Ports), len(cfg.Listen.All()))
	}
	for name, p := range map[string]probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		wantPath := "/healthz"
		if name == "readiness" {
			wantPath = "/readyz"
		}
		if p.HTTPGet.Path != wantPath || p.HTTPGet.Port != "http" {
			t.Errorf("%s probe GET %v on %v, want %s on the http port", name, p.HTTPGet.Path, p.HTTPGet.Port, wantPath)
		}
	}
}

func TestMountsMatchConfig(t *testing.T) {
	all := manifests(t)
	d, c := deployment(t, all)
	cfg, _ := loadConfig(t, all, c)
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	if i := slices.Index(c.Args, "--config"); i < 0 || i+1 == len(c.Args) || c.Args[i+1] != path.Join(mounts["config"], "oauthbridge.yaml") {
		t.Errorf("args %v do not load oauthbridge.yaml from the config mount %s", c.Args, mounts["config"])
	}
	for _, f := range []string{cfg.TLS.Cert, cfg.TLS.Key} {
		if path.Dir(f) != mounts["tls"] {
			t.Errorf("%s is not in the tls mount %s", f, mounts["tls"])
		}
	}
	// An emptyDir is world-writable, which oauthbridge refuses as state_dir.
	if path.Dir(cfg.StateDir) != mounts["state"] {
		t.Errorf("state_dir %s is not a directory inside the state mount %s", cfg.StateDir, mounts["state"])
	}
	grace := time.Duration(d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	if cfg.ShutdownGrace >= grace {
		t.Errorf("shutdown_grace %v is not below terminationGracePeriodSeconds %v", cfg.ShutdownGrace, grace)
	}
}

func TestSecurityContext(t *testing.T) {
	d, c := deployment(t, manifests(t))
	sc := c.SecurityContext
	if !d.Spec.Template.Spec.SecurityContext.RunAsNonRoot || !sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
		t.Errorf("container security context %+v, want non-root, read-only root, no escalation, no capabilities", sc)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Error("fewer than two replicas: the PodDisruptionBudget would block every drain")
	}
}

// TestSelectorsAndPorts: every Service, the PodDisruptionBudget and the
// NetworkPolicy select the Deployment's pods, and name ports it has.
func TestSelectorsAndPorts(t *testing.T) {
	all := manifests(t)
	d, c := deployment(t, all)
	labels := d.Spec.Template.Metadata.Labels
	if !maps.Equal(d.Spec.Selector.MatchLabels, labels) {
		t.Errorf("Deployment selector %v does not match its template's labels %v", d.Spec.Selector.MatchLabels, labels)
	}
	ports := map[string]bool{}
	for _, p := range c.Ports {
		ports[p.Name] = true
	}
	services := of(all, "Service")
	if len(services) != 4 {
		t.Errorf("%d Services, want one per protocol (imap, pop3, smtp, http)", len(services))
	}
	for _, s := range services {
		if !subset(s.Spec.ServiceSelector, labels) || len(s.Spec.ServiceSelector) == 0 {
			t.Errorf("Service %s selects %v, not the pods (%v)", s.Metadata.Name, s.Spec.ServiceSelector, labels)
		}
		for _, p := range s.Spec.Ports {
			if name, ok := p.TargetPort.(string); !ok || !ports[name] {
				t.Errorf("Service %s port %s targets %v, not a named container port", s.Metadata.Name, p.Name, p.TargetPort)
			}
		}
	}
	if pdb := only(t, all, "PodDisruptionBudget"); !maps.Equal(pdb.Spec.Selector.MatchLabels, labels) {
		t.Errorf("PodDisruptionBudget selects %v, not the pods", pdb.Spec.Selector.MatchLabels)
	}
	np := only(t, all, "NetworkPolicy")
	if !maps.Equal(np.Spec.PodSelector.MatchLabels, labels) {
		t.Errorf("NetworkPolicy selects %v, not the pods", np.Spec.PodSelector.MatchLabels)
	}
	allowed := map[string]bool{}
	for _, in := range np.Spec.Ingress {
		for _, p := range in.Ports {
			allowed[fmt.Sprint(p.Port)] = true
		}
	}
	if !maps.Equal(allowed, ports) {
		t.Errorf("NetworkPolicy admits %v, the container has %v", slices.Sorted(maps.Keys(allowed)), slices.Sorted(maps.Keys(ports)))
	}
}

func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestKustomizationListsManifests: kubectl apply -k applies every manifest
// but the optional ServiceMonitor (which needs the Prometheus Operator).
func TestKustomizationListsManifests(t *testing.T) {
	data, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `yaml:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*.yaml")
	var want []string
	for _, f := range files {
		if f != "kustomization.yaml" && !strings.HasPrefix(f, "servicemonitor") {
			want = append(want, f)
		}
	}
	if got := slices.Sorted(slices.Values(k.Resources)); !slices.Equal(got, want) {
		t.Errorf("kustomization resources %v, want %v", got, want)
	}
}
