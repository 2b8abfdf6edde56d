package interop

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/internal/needs"
	"github.com/simlab-dev/simlab/smsc/smsctest"
)

// npmESME runs testdata/npm-esme.js (npm smpp 0.5.1) against addr and
// decodes the JSON line it prints.
func npmESME(t *testing.T, addr, text string, out any) {
	t.Helper()
	node := needs.Command(t, "node", "nodejs")
	if _, err := os.Stat(filepath.Join("testdata", "node_modules", "smpp", "package.json")); err != nil {
		needs.Missing(t, "the npm package smpp in smsc/interop/testdata", "cd smsc/interop/testdata && npm ci (scripts/deps.sh test)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "npm-esme.js", addr, text)
	cmd.Dir = "testdata"
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("node npm-esme.js: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("npm-esme.js printed %q: %v", b, err)
	}
}

// TestNPMSMPP: npm smpp, a third-party ESME that binds with
// interface_version 0x50, is answered sc_interface_version 0x50; a
// scheduled message queries as SMPP 5.0's SCHEDULED (0), not 9 (SKIPPED,
// final); the receipt of a UCS2 message with characters GSM lacks decodes,
// with npm smpp's GSM 03.38 table for data_coding 0, to the message's
// first 20 characters, those characters as '?'.
func TestNPMSMPP(t *testing.T) {
	t.Parallel()
	srv := smsctest.NewServer(t)
	var got struct {
		SCInterfaceVersion int    `json:"sc_interface_version"`
		ID                 string `json:"id"`
		Receipt            string `json:"receipt"`
		ReceiptDCS         int    `json:"receipt_dcs"`
		MessageState       int    `json:"message_state"`
		ReceiptedID        string `json:"receipted_message_id"`
		ScheduledState     int    `json:"scheduled_state"`
	}
	npmESME(t, srv.Addr, "Grüße — Код ✓ 5€ [ok] and more", &got)
	if got.SCInterfaceVersion != 0x50 {
		t.Errorf("sc_interface_version %#x, want 0x50", got.SCInterfaceVersion)
	}
	if got.ScheduledState != 0 {
		t.Errorf("query_sm of a scheduled message: message_state %d, want 0 (SCHEDULED)", got.ScheduledState)
	}
	if got.ReceiptDCS != 0 || got.MessageState != 2 || got.ReceiptedID != got.ID || got.ID == "" {
		t.Errorf("receipt: %+v", got)
	}
	if !strings.HasPrefix(got.Receipt, "id:"+got.ID+" sub:001 dlvrd:001 ") || !strings.HasSuffix(got.Receipt, " stat:DELIVRD err:000 text:Grüße ? ??? ? 5€ [ok") {
		t.Errorf("receipt text as npm smpp decodes it: %q", got.Receipt)
	}
}
