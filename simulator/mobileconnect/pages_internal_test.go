package mobileconnect

import (
	"bytes"
	"net/http/httptest"
	"net/url"
	"testing"
)

// TestWaitPageMatchesTemplate holds the waiting page assembled from parts
// to what the template renders, for every shape and for values that need
// escaping.
func TestWaitPageMatchesTemplate(t *testing.T) {
	refreshes := []string{
		"/mc/authorize?" + url.Values{"state": {`"><script>alert(1)</script>`}, "nonce": {"ü & ß"}}.Encode(),
		"/mc/authorize?a=1&b=2",
		"/mc/authorize?",
	}
	texts := []string{"", "demo", `<b>"pay" & 'go'</b>`, "Überweisung €5 → ok", "javascript:alert(1)"}
	g := &Gateway{path: "/mc"}
	for _, ref := range refreshes {
		for _, cn := range texts {
			for _, bm := range texts {
				var want bytes.Buffer
				if err := pages.ExecuteTemplate(&want, "wait", pageData{Title: waitTitle, Lang: "en", Refresh: ref, ClientName: cn, BindingMessage: bm, Root: "/mc/"}); err != nil {
					t.Fatal(err)
				}
				rec := httptest.NewRecorder()
				g.renderWait(rec, ref, cn, bm)
				if got := rec.Body.String(); got != want.String() {
					t.Fatalf("refresh %q client %q binding %q:\n got %s\nwant %s", ref, cn, bm, got, want.String())
				}
				if rec.Code != 200 || rec.Header().Get("Content-Security-Policy") == "" {
					t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
				}
			}
		}
	}
}
