package capture

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
)

// UDH cases from applet/ota/testdata/vectors.txt (pySim test_sms.py UDH parsing: 027100 is
// IEI 71 with no data; 0571007001ff is IEI 71 then IEI 70 with ff) and TS
// 23.040 §9.2.3.24.1 concatenation.
var udhCases = []struct {
	hex  string
	want []UDHElement
}{
	{"027100", []UDHElement{{IEI: 0x71, Name: "(U)SIM toolkit security header: response packet"}}},
	{"0571007001ff", []UDHElement{{IEI: 0x71, Name: "(U)SIM toolkit security header: response packet"}, {IEI: 0x70, Name: "(U)SIM toolkit security header: command packet", Data: "ff"}}},
	{"050003aa0201", []UDHElement{{IEI: 0, Name: "concatenated short messages, 8-bit reference", Data: "aa0201"}}},
	{"0600041234", []UDHElement{{IEI: 0xFF, Name: "malformed: element 00 at offset 1 claims 4 octets", Data: "00041234"}}},
}

func TestParseUDH(t *testing.T) {
	t.Parallel()
	for _, tc := range udhCases {
		b, _ := hex.DecodeString(tc.hex)
		got := parseUDH(b)
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %+v", tc.hex, got)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("%s: element %d = %+v, want %+v", tc.hex, i, got[i], tc.want[i])
			}
		}
	}
}

// TestParseOTA reads packet headers given in applet/uicc/testdata/vectors.txt (onomondo
// envelope_test: the command packet's clear header and the response packet).
func TestParseOTA(t *testing.T) {
	t.Parallel()
	// applet/uicc/testdata/vectors.txt (ON envelope_test .ok): response packet RPL 0014, RHL 12, TAR b00011.
	rsp, _ := hex.DecodeString("001412b0001100e878eeb2c2443ddbeef1ac668398fb")
	h := parseOTAResponse(rsp)
	if h.RPL != 0x14 || h.RHL != 0x12 || h.TAR != "b00011" || h.Error != "" {
		t.Fatalf("response %+v", h)
	}
	// applet/uicc/testdata/vectors.txt: command packet header CPL 0038, CHL 15, SPI 1639, KIc/KID 32, TAR b00011 (ciphered).
	cmd, _ := hex.DecodeString("0038151639" + "3232" + "b00011" + "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000")
	c := parseOTACommand(cmd)
	if c.CPL != 0x38 || c.CHL != 0x15 || c.SPI != "1639" || c.KIc != "32" || c.KID != "32" || c.TAR != "b00011" || !c.Ciphered || c.Counter != "" {
		t.Fatalf("command %+v", c)
	}
	if c := parseOTACommand([]byte{0, 1}); c.Error == "" {
		t.Fatal("short packet accepted")
	}
}

func FuzzParseUDH(f *testing.F) {
	for _, tc := range udhCases {
		b, _ := hex.DecodeString(tc.hex)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, e := range parseUDH(b) {
			if _, err := hex.DecodeString(e.Data); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzParseOTA(f *testing.F) {
	b, _ := hex.DecodeString("00150d12000000b0001100000000010000a40004023f00")
	f.Add(b)
	b, _ = hex.DecodeString("001412b0001100e878eeb2c2443ddbeef1ac668398fb")
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		c := parseOTACommand(b)
		if len(b) >= 10 && len(c.TAR) != 6 {
			t.Fatalf("TAR %q", c.TAR)
		}
		r := parseOTAResponse(b)
		if len(b) >= 6 && len(r.TAR) != 6 {
			t.Fatalf("TAR %q", r.TAR)
		}
	})
}

// TestSubscribed: WantEvents is true only while someone waits or streams.
func TestSubscribed(t *testing.T) {
	a := New(smsc.NewMemStore(0))
	if a.Subscribed() {
		t.Fatal("subscribed with nobody waiting")
	}
	a.init()
	s := a.Hub.Subscribe(TopicMessage, nil, 1)
	if !a.Subscribed() {
		t.Error("not subscribed while a subscription is open")
	}
	a.Hub.Unsubscribe(s)
	if a.Subscribed() {
		t.Error("still subscribed after the last one left")
	}
}

// TestDeleteOneAndTPDU: DELETE /api/v1/messages/{id} removes that message
// only; a message's own view carries its SMS-DELIVER TPDU.
func TestDeleteOneAndTPDU(t *testing.T) {
	t.Parallel()
	st := smsc.NewMemStore(0)
	dcs, body := smsc.EncodeText("Your code is 123456")
	for _, id := range []string{"1", "2"} {
		st.Append(t.Context(), &smsc.Message{ID: id, Namespace: "ns", Direction: smsc.MT, Source: smsc.Address{TON: 5, Addr: "BANK"},
			Dest: smsc.Address{TON: 1, NPI: 1, Addr: "99900000001"}, DCS: dcs, Body: body, State: smsc.Enroute, SubmitTime: time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)})
	}
	srv := httptest.NewServer(New(st))
	defer srv.Close()
	var v MessageView
	resp, err := http.Get(srv.URL + "/api/v1/messages/1")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	// SMS-DELIVER: first octet 04 (TP-MMS), TP-OA alphanumeric "BANK".
	if len(v.TPDU) != 1 || !strings.HasPrefix(v.TPDU[0], "0407d0c2") {
		t.Fatalf("tpdu %v", v.TPDU)
	}
	del := func(id string) int {
		req, _ := http.NewRequest("DELETE", srv.URL+"/api/v1/messages/"+id, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := del("1"); c != 200 {
		t.Fatalf("delete: %d", c)
	}
	if c := del("1"); c != 404 {
		t.Fatalf("delete again: %d", c)
	}
	if st.Len() != 1 {
		t.Fatalf("%d left, want the other one", st.Len())
	}
}
