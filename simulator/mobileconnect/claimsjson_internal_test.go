package mobileconnect

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
)

// fillRandom sets every field of the struct v points to, recursively, by
// its kind: strings from randomText (or empty), integers at random,
// pointers and slices nil or filled, json.RawMessage compact JSON or
// empty. A field of a kind it does not know fails the test, so that a
// new field of idClaims is either filled here or looked at.
func fillRandom(t *testing.T, r *rand.Rand, v reflect.Value) {
	for i := range v.NumField() {
		f, sf := v.Field(i), v.Type().Field(i)
		switch {
		case !sf.IsExported(): // not encoded
		case sf.Type == reflect.TypeFor[json.RawMessage]():
			if r.IntN(3) > 0 {
				f.SetBytes([]byte(`{"kty":"EC","crv":"P-256","x":"` + strconv.Itoa(r.Int()) + `","n":[1,2.5,null,true]}`))
			}
		case f.Kind() == reflect.String:
			if r.IntN(4) > 0 {
				f.SetString(randomText(r, 40))
			}
		case f.Kind() == reflect.Int64:
			f.SetInt(r.Int64() - r.Int64())
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			switch r.IntN(4) {
			case 0: // nil
			case 1:
				f.Set(reflect.MakeSlice(f.Type(), 0, 0))
			default:
				s := reflect.MakeSlice(f.Type(), 1+r.IntN(3), 3)
				for j := range s.Len() {
					s.Index(j).SetString(randomText(r, 10))
				}
				f.Set(s)
			}
		case f.Kind() == reflect.Pointer:
			if r.IntN(3) > 0 {
				p := reflect.New(f.Type().Elem())
				if p.Elem().Kind() == reflect.Struct {
					fillRandom(t, r, p.Elem())
				} else if p.Elem().Kind() == reflect.Int64 {
					p.Elem().SetInt(r.Int64())
				} else {
					t.Fatalf("field %s: a pointer to %s", sf.Name, p.Elem().Kind())
				}
				f.Set(p)
			}
		default:
			t.Fatalf("field %s of kind %s: fill it here and write it in appendClaims", sf.Name, f.Kind())
		}
	}
}

// TestAppendClaims: the hand-written claims JSON is byte for byte what
// json.Marshal makes of the struct, for many claim sets with every field
// filled or not at random, and decodes back to the same struct.
func TestAppendClaims(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 6))
	var b []byte
	for i := range 5000 {
		var c idClaims
		fillRandom(t, r, reflect.ValueOf(&c).Elem())
		if i%3 == 0 {
			c = *randomClaims(r)
		}
		want, err := json.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		b = appendClaims(b[:0], &c)
		if string(b) != string(want) {
			t.Fatalf("claim set %d:\n got %s\nwant %s", i, b, want)
		}
		var back idClaims
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("claim set %d: %v", i, err)
		}
		if again, _ := json.Marshal(&back); string(again) != string(want) {
			t.Fatalf("claim set %d decodes to another claim set:\n%s\n%s", i, again, want)
		}
	}
}

// FuzzAppendJSONString: any string, valid UTF-8 or not, is escaped as
// json.Marshal escapes it.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `"\` + "\x00\x1f\x7f\b\f\n\r\t<>&", "é€😀\u2028\u2029", "\xff\xfe\xc3", "a\xe2\x82b", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: %s, want %s", s, got, want)
		}
	})
}

// BenchmarkClaimsJSON: an id_token's claim set with the claims of a
// LoA3 login, through appendClaims and through encoding/json.
func BenchmarkClaimsJSON(b *testing.B) {
	t := int64(1733580000)
	c := &idClaims{Iss: "http://127.0.0.1:8775/mc", Aud: "x-simlab-demo", Azp: "x-simlab-demo",
		Sub: "0f3c2d1e4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff", ACR: "3", AMR: []string{"SIM_PIN"},
		AuthTime: t, Iat: t, Exp: t + 3600, JTI: "AbCdEfGhIjKlMnOp", Nonce: "n123456", AtHash: "qwertyuiopasdfghjklzxc",
		HashedHint: "ff775272c11008ebcb85d1d43b35c9871b59a83a958b74fa1697ca8480d1b08f", DTSTime: &t,
		DTS: "oIGMgAEDgQhEdWU6kEh2yoIhQWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY3ODkwoYGQgAEAgQhEdWU6kEh2yoJAMEYCIQDx",
		UPK: json.RawMessage(`{"use":"sig","kty":"EC","crv":"P-256","alg":"ES256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`)}
	b.Run("appender", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = appendClaims(buf[:0], c)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		// As sign did before appendClaims: an Encoder into a reused buffer.
		var jb bytes.Buffer
		enc := json.NewEncoder(&jb)
		for b.Loop() {
			jb.Reset()
			if err := enc.Encode(c); err != nil {
				b.Fatal(err)
			}
		}
	})
}
