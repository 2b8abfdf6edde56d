package interop

import (
	"net/url"
	"testing"
	"time"

	"github.com/fiorix/go-smpp/smpp"
	"github.com/fiorix/go-smpp/smpp/pdu/pdutext"

	"github.com/simlab-dev/simlab/smsc/capture"
	"github.com/simlab-dev/simlab/smsc/smsctest"
)

// TestGoSMPPCapture: go-smpp's transmitter (a third-party ESME) submits
// GSM and UCS2 texts; the capture API returns them decoded, with the OTP.
func TestGoSMPPCapture(t *testing.T) {
	t.Parallel()
	srv := smsctest.NewServer(t)
	tx := &smpp.Transmitter{Addr: srv.Addr, User: "gosmpp", Passwd: "any"}
	defer tx.Close()
	select {
	case st := <-tx.Bind():
		if st.Status() != smpp.Connected {
			t.Fatalf("bind: %v", st.Error())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no bind status")
	}
	for _, tc := range []struct {
		to   string
		text pdutext.Codec
		want string
	}{
		{"999000601", pdutext.Raw("Your code is 5519"), "Your code is 5519"},
		{"999000602", pdutext.UCS2("Ваш код 8842"), "Ваш код 8842"},
	} {
		if _, err := tx.Submit(&smpp.ShortMessage{Src: "SIMLAB", Dst: tc.to, Text: tc.text, SourceAddrTON: 5}); err != nil {
			t.Fatalf("submit: %v", err)
		}
		var list capture.ListResponse
		getJSON(t, srv.URL+"/api/v1/messages?to="+url.QueryEscape(tc.to), &list)
		if len(list.Messages) != 1 || list.Messages[0].Text == nil || *list.Messages[0].Text != tc.want || list.Messages[0].Account != "gosmpp" {
			t.Fatalf("%s: %+v", tc.to, list.Messages)
		}
	}
	var otp capture.OTPResponse
	getJSON(t, srv.URL+"/api/v1/otp?to=999000602", &otp)
	if otp.OTP != "8842" {
		t.Fatalf("otp %+v", otp)
	}
}
