// Command k8sschema writes strict JSON schemas for the Kubernetes kinds in
// deploy/kubernetes, in the file layout kubeconform reads, so that the
// manifests are validated without the network (kubeconform's default
// schemas are downloaded at run time, and CI has no internet).
//
// The schemas are derived by reflection from the Go types of k8s.io/api,
// the same types the API server decodes manifests into: every field name
// and type is checked, unknown fields are refused (additionalProperties:
// false, as kubeconform -strict expects), and a field whose JSON tag has no
// omitempty and is neither a pointer, a slice nor a map is required.
// Enumerations and other rules that live only in comments of those types
// are not checked; that is what a real API server (kubectl apply
// --dry-run=server) adds.
//
//	go run . OUTDIR
//	kubeconform -strict -schema-location 'OUTDIR/{{ .ResourceKind }}{{ .KindSuffix }}.json' FILES
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// kinds are the kinds the manifests may use.
var kinds = []struct {
	apiVersion, kind string
	obj              any
}{
	{"apps/v1", "Deployment", appsv1.Deployment{}},
	{"v1", "Service", corev1.Service{}},
	{"v1", "ConfigMap", corev1.ConfigMap{}},
	{"v1", "Secret", corev1.Secret{}},
	{"v1", "ServiceAccount", corev1.ServiceAccount{}},
	{"policy/v1", "PodDisruptionBudget", policyv1.PodDisruptionBudget{}},
	{"networking.k8s.io/v1", "NetworkPolicy", networkingv1.NetworkPolicy{}},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: k8sschema OUTDIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "k8sschema:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, k := range kinds {
		s, err := topLevel(k.apiVersion, k.kind, reflect.TypeOf(k.obj))
		if err != nil {
			return fmt.Errorf("%s %s: %w", k.apiVersion, k.kind, err)
		}
		data, err := json.MarshalIndent(s, "", " ")
		if err != nil {
			return err
		}
		path := filepath.Join(dir, fileName(k.apiVersion, k.kind))
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// fileName follows kubeconform's {{ .ResourceKind }}{{ .KindSuffix }}:
// the lower-case kind, then the group's first label (if any), then the
// version, joined with "-".
func fileName(apiVersion, kind string) string {
	name := strings.ToLower(kind)
	group, version, found := strings.Cut(apiVersion, "/")
	if !found {
		return name + "-" + apiVersion + ".json"
	}
	first, _, _ := strings.Cut(group, ".")
	return name + "-" + strings.ToLower(first) + "-" + version + ".json"
}

// topLevel is the object's schema with apiVersion and kind pinned.
func topLevel(apiVersion, kind string, t reflect.Type) (map[string]any, error) {
	s, err := newGen().schema(t)
	if err != nil {
		return nil, err
	}
	props := s["properties"].(map[string]any)
	props["apiVersion"] = map[string]any{"type": "string", "enum": []string{apiVersion}}
	props["kind"] = map[string]any{"type": "string", "enum": []string{kind}}
	s["required"] = append(s["required"].([]string), "apiVersion", "kind")
	s["$schema"] = "http://json-schema.org/draft-07/schema#"
	return s, nil
}
