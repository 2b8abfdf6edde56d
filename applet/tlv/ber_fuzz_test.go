package tlv

import (
	"bytes"
	"testing"
)

// FuzzParseAllBER checks that ParseAllBER never panics and that every object
// it returns re-encodes (in the shortest length form) to something that
// parses back to the same tag and value.
func FuzzParseAllBER(f *testing.F) {
	for _, v := range berVectors {
		f.Add(unhex(f, v.hex))
	}
	f.Add(unhex(f, "00610A4F08A000000087100201FFFF5001AAFFFF"))
	f.Add(unhex(f, "5F818181810100"))
	f.Fuzz(func(t *testing.T, in []byte) {
		objs, err := ParseAllBER(nil, in)
		if err != nil {
			return
		}
		var enc []byte
		for _, o := range objs {
			enc = o.Append(enc)
		}
		again, err := ParseAllBER(nil, enc)
		if err != nil {
			t.Fatalf("re-encoded %X does not parse: %v", enc, err)
		}
		if len(again) != len(objs) {
			t.Fatalf("re-parse gives %d objects, want %d", len(again), len(objs))
		}
		for i := range objs {
			if again[i].Tag != objs[i].Tag || !bytes.Equal(again[i].Value, objs[i].Value) {
				t.Fatalf("object %d differs after re-encoding", i)
			}
			if objs[i].Tag.Constructed() {
				_, _ = objs[i].Children(nil)
			}
		}
	})
}
