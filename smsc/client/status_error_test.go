package client

import (
	"testing"

	"github.com/simlab-dev/simlab/smsc/pdu"
)

// TestStatusErrorNames: the command and the status by their SMPP names.
func TestStatusErrorNames(t *testing.T) {
	t.Parallel()
	e := &StatusError{Command: uint32(pdu.CmdBindTransceiverResp), Status: uint32(pdu.StatusBindFail)}
	if got, want := e.Error(), "smpp client: bind_transceiver refused with ESME_RBINDFAIL (command_status 0x0000000D)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	e = &StatusError{Command: uint32(pdu.CmdSubmitSMResp), Status: 0x400}
	if got, want := e.Error(), "smpp client: submit_sm refused with reserved/vendor (command_status 0x00000400)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
