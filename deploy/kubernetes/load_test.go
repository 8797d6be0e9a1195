// Tests that keep the manifests in step with each other and with the
// configuration they carry. kubeconform (.ci/check-deploy) checks each
// object against the Kubernetes schemas; these check what no schema can:
// that a Service's targetPort names a port the container has, that the
// container listens where the configuration says, that every env:NAME the
// configuration reads is set from a key the Secret has.
package kubernetes_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// object is the part of a manifest these tests read; fields that a kind
// does not have stay empty.
type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       spec              `yaml:"spec"`
}

type spec struct {
	// Deployment
	Replicas *int      `yaml:"replicas"`
	Selector *selector `yaml:"selector"`
	Template struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec podSpec `yaml:"spec"`
	} `yaml:"template"`
	// Service (selector is a plain map there, read through yaml.Node)
	ServiceSelector map[string]string `yaml:"-"`
	Ports           []struct {
		Name       string `yaml:"name"`
		Port       any    `yaml:"port"`
		TargetPort any    `yaml:"targetPort"`
	} `yaml:"ports"`
	// NetworkPolicy
	PodSelector *selector `yaml:"podSelector"`
	Ingress     []struct {
		Ports []struct {
			Port any `yaml:"port"`
		} `yaml:"ports"`
	} `yaml:"ingress"`
}

type selector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type podSpec struct {
	TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               struct {
		RunAsNonRoot bool `yaml:"runAsNonRoot"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []struct {
		Name     string         `yaml:"name"`
		EmptyDir map[string]any `yaml:"emptyDir"`
	} `yaml:"volumes"`
}

type container struct {
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string `yaml:"name"`
		ValueFrom struct {
			SecretKeyRef struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	StartupProbe   probe `yaml:"startupProbe"`
	LivenessProbe  probe `yaml:"livenessProbe"`
	ReadinessProbe probe `yaml:"readinessProbe"`
	VolumeMounts   []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

// UnmarshalYAML reads a Service's selector, a plain label map where a
// Deployment has matchLabels.
func (s *spec) UnmarshalYAML(n *yaml.Node) error {
	type plain spec
	if err := n.Decode((*plain)(s)); err != nil {
		return err
	}
	var svc struct {
		Selector map[string]any `yaml:"selector"`
	}
	if err := n.Decode(&svc); err == nil {
		for k, v := range svc.Selector {
			if str, ok := v.(string); ok {
				if s.ServiceSelector == nil {
					s.ServiceSelector = map[string]string{}
				}
				s.ServiceSelector[k] = str
			}
		}
	}
	return nil
}

// manifests reads every object of every YAML file here, by file.
func manifests(t *testing.T) map[string][]object {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	out := map[string][]object{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var o object
			if err := d.Decode(&o); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out[f] = append(out[f], o)
		}
	}
	return out
}

// only returns the one object of kind, failing unless there is exactly one.
func only(t *testing.T, all map[string][]object, kind string) object {
	t.Helper()
	found := of(all, kind)
	if len(found) != 1 {
		t.Fatalf("%d objects of kind %s, want 1", len(found), kind)
	}
	return found[0]
}

func of(all map[string][]object, kind string) []object {
	var found []object
	for _, objs := range all {
		for _, o := range objs {
			if o.Kind == kind {
				found = append(found, o)
			}
		}
	}
	return found
}
