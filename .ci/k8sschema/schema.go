package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// quantityPattern is the syntax of resource.Quantity ("100m", "64Mi", "1e3").
const quantityPattern = `^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$`

// special are the types whose JSON form is not their Go structure: they
// marshal themselves.
var special = map[reflect.Type]map[string]any{
	reflect.TypeFor[metav1.Time]():          {"type": []string{"string", "null"}, "format": "date-time"},
	reflect.TypeFor[metav1.MicroTime]():     {"type": []string{"string", "null"}, "format": "date-time"},
	reflect.TypeFor[metav1.Duration]():      {"type": "string"},
	reflect.TypeFor[metav1.FieldsV1]():      {"type": "object"},
	reflect.TypeFor[runtime.RawExtension](): {"type": "object"},
	reflect.TypeFor[resource.Quantity](): {"anyOf": []any{
		map[string]any{"type": "string", "pattern": quantityPattern},
		map[string]any{"type": "number"},
	}},
	reflect.TypeFor[intstr.IntOrString](): {"anyOf": []any{
		map[string]any{"type": "string"},
		map[string]any{"type": "integer"},
	}},
}

var marshaler = reflect.TypeFor[json.Marshaler]()

// gen builds schemas; inProgress catches recursive types, which the kinds
// in use do not have (they would need $ref definitions).
type gen struct{ inProgress map[reflect.Type]bool }

func newGen() *gen { return &gen{inProgress: map[reflect.Type]bool{}} }

func (g *gen) schema(t reflect.Type) (map[string]any, error) {
	if s, ok := special[t]; ok {
		return s, nil
	}
	if t.Kind() != reflect.Pointer && (t.Implements(marshaler) || reflect.PointerTo(t).Implements(marshaler)) {
		return nil, fmt.Errorf("%v marshals itself: add its JSON form to special", t)
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.schema(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}, nil
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}, nil
	case reflect.Slice:
		return g.array(t)
	case reflect.Map:
		return g.object(t)
	case reflect.Struct:
		return g.structure(t)
	}
	return nil, fmt.Errorf("%v: no JSON schema for kind %v", t, t.Kind())
}

func (g *gen) array(t reflect.Type) (map[string]any, error) {
	if t.Elem().Kind() == reflect.Uint8 {
		return map[string]any{"type": []string{"string", "null"}, "contentEncoding": "base64"}, nil
	}
	items, err := g.schema(t.Elem())
	if err != nil {
		return nil, err
	}
	return map[string]any{"type": []string{"array", "null"}, "items": items}, nil
}

func (g *gen) object(t reflect.Type) (map[string]any, error) {
	if t.Key().Kind() != reflect.String {
		return nil, fmt.Errorf("%v: map keys must be strings", t)
	}
	values, err := g.schema(t.Elem())
	if err != nil {
		return nil, err
	}
	return map[string]any{"type": []string{"object", "null"}, "additionalProperties": values}, nil
}

func (g *gen) structure(t reflect.Type) (map[string]any, error) {
	if g.inProgress[t] {
		return nil, fmt.Errorf("%v is recursive", t)
	}
	g.inProgress[t] = true
	defer delete(g.inProgress, t)
	props := map[string]any{}
	required := []string{}
	if err := g.fields(t, props, &required); err != nil {
		return nil, err
	}
	slices.Sort(required)
	return map[string]any{"type": "object", "properties": props, "required": required,
		"additionalProperties": false}, nil
}

// fields adds t's JSON fields to props, descending into inlined structs.
func (g *gen) fields(t reflect.Type, props map[string]any, required *[]string) error {
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" && (f.Anonymous || strings.Contains(opts, "inline")) {
			if err := g.fields(f.Type, props, required); err != nil {
				return err
			}
			continue
		}
		if name == "" {
			return fmt.Errorf("%v.%s has no JSON name", t, f.Name)
		}
		s, err := g.schema(f.Type)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		props[name] = s
		if isRequired(f.Type, opts) {
			*required = append(*required, name)
		}
	}
	return nil
}

// isRequired: the API leaves out empty optional fields (omitempty) and
// uses pointers, slices and maps for optional ones; what remains is a
// value the object cannot do without.
func isRequired(t reflect.Type, opts string) bool {
	if strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero") {
		return false
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Bool:
		return false
	}
	return true
}
