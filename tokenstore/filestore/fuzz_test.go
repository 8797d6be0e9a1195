package filestore

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzDecode feeds arbitrary file contents to the parser: it must return
// records or ErrCorrupt, never panic, and what it accepts must survive an
// encode/decode round trip unchanged.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"format":1,"records":[]}`))
	f.Add([]byte(`{"format":1,"records":[{"account":"a@example.com","provider":"lab","status":"ok","kdf":{"salt":"c2FsdA==","time":1,"memory_kib":64,"threads":1},"sealed":"AQID","version":3}]}`))
	f.Add([]byte(`{"format":1,"records":[{"account":"a"},{"account":"a"}]}`))
	f.Add([]byte(`{"format":1,"records":[null]}`))
	f.Add([]byte("\x00garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := decode(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decode error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		out, err := encode(recs)
		if err != nil {
			return // e.g. a time outside JSON's range; Put would fail cleanly
		}
		again, err := decode(out)
		if err != nil {
			t.Fatalf("re-decode of encoded records: %v", err)
		}
		if len(again) != len(recs) {
			t.Fatalf("round trip changed record count %d -> %d", len(recs), len(again))
		}
		for k, r := range recs {
			if a := again[k]; a == nil || !reflect.DeepEqual(a.Sealed, r.Sealed) || a.Version != r.Version {
				t.Fatalf("round trip changed record %q", k)
			}
		}
	})
}
