package pdu

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// FuzzParseTime: SMPP times (SMPP 3.4 §7.1.1) from schedule_delivery_time
// and validity_period. An absolute time that parses, written back with
// AppendTime, parses to the same instant (to the tenth of a second) when
// its UTC year is one two digits can write.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"261122100000000+", "261122100000032-", "000001000000000R", "991231235959948+", "261399999999999+", "", "0"} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v []byte) {
		tm, err := ParseTime(v, now)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Status != StatusInvExpiry {
				t.Fatalf("%q: %v", v, err)
			}
			return
		}
		// Two-digit years: AppendTime writes UTC, which can fall outside
		// 2000-2099 for an offset time near the ends of the century.
		if len(v) == 0 || v[15] == 'R' || tm.UTC().Year() < 2000 || tm.UTC().Year() > 2099 {
			return
		}
		back, err := ParseTime(AppendTime(nil, tm), now)
		if err != nil || !back.Equal(tm) {
			t.Fatalf("%q = %v, written back %q = %v (%v)", v, tm, AppendTime(nil, tm), back, err)
		}
	})
}

// FuzzParseStatus: command_status names and numbers in configuration and
// fault rules.
func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{"ESME_RTHROTTLED", "0x58", "88", "RMSGQFUL", "esme_rok", "0xFFFFFFFFF", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseStatus(s)
		if err != nil {
			return
		}
		name := st.String()
		if !st.Known() {
			name = fmt.Sprintf("0x%X", uint32(st))
		}
		if again, err := ParseStatus(name); err != nil || again != st {
			t.Fatalf("%q = %v, written %q parses to %v (%v)", s, st, name, again, err)
		}
	})
}
