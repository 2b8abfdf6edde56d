package mobileconnect

import (
	"bytes"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// randomText is a string of up to n characters drawn from ASCII, the
// characters encoding/json escapes (HTML's, controls, U+2028) and
// multi-byte UTF-8.
func randomText(r *rand.Rand, n int) string {
	const pool = "aZ09 -_.~:/?#[]@!$&'()*+,;=%<>\"\\\n\t\x00\x1féü€😀\u2028\u2029"
	runes := []rune(pool)
	var b strings.Builder
	for range r.IntN(n + 1) {
		b.WriteRune(runes[r.IntN(len(runes))])
	}
	return b.String()
}

// randomClaims is an id_token claim set with every field sometimes set.
func randomClaims(r *rand.Rand) *idClaims {
	c := &idClaims{Iss: randomText(r, 40), Aud: randomText(r, 20), Azp: randomText(r, 20), Sub: randomText(r, 50),
		AuthTime: r.Int64(), Iat: r.Int64N(1 << 40), Exp: -r.Int64N(1 << 40), JTI: randomText(r, 16)}
	if r.IntN(2) == 0 {
		c.ACR, c.Nonce, c.AtHash, c.HashedHint = randomText(r, 2), randomText(r, 30), randomText(r, 22), randomText(r, 64)
	}
	for range r.IntN(3) {
		c.AMR = append(c.AMR, randomText(r, 8))
	}
	if r.IntN(2) == 0 {
		c.DisplayedData = &displayedData{ClientName: randomText(r, 20), BindingMessage: randomText(r, 40), Context: randomText(r, 60)}
	}
	if r.IntN(2) == 0 {
		t := r.Int64()
		c.DTS, c.DTSTime = randomText(r, 300), &t
		c.UPK = json.RawMessage(`{"kty":"EC","crv":"P-256","x":"` + strconv.Itoa(r.Int()) + `"}`)
	}
	if r.IntN(4) == 0 {
		c.Recipient, c.CIBAAuthReqID = randomText(r, 20), randomText(r, 20)
	}
	return c
}

// writeCounter is a ResponseWriter counting the Writes of the body.
type writeCounter struct {
	*httptest.ResponseRecorder
	writes int
}

func (w *writeCounter) Write(b []byte) (int, error) {
	w.writes++
	return w.ResponseRecorder.Write(b)
}

// TestWriteJSONOneWrite: an answer is json.Encoder's bytes (newline
// included), with its Content-Length, in one Write, also past net/http's
// 2,048 bytes of counting; a value JSON cannot hold writes no body.
func TestWriteJSONOneWrite(t *testing.T) {
	long := &TokenResponse{AccessToken: strings.Repeat("a", 3000), TokenType: "Bearer", ExpiresIn: 3600, IDToken: "x.y.z"}
	for i, v := range []any{
		&TokenResponse{AccessToken: "at", TokenType: "Bearer", ExpiresIn: 3600, IDToken: "h.p.s", Scope: "openid mc_authn"},
		long,
		newError(ErrInvalidGrant, "the code is <unknown> & \u2028 expired"),
		map[string]any{"sub": "x", "phone_number_verified": true},
	} {
		w := &writeCounter{ResponseRecorder: httptest.NewRecorder()}
		writeJSON(w, http.StatusCreated, v)
		want, _ := json.Marshal(v)
		want = append(want, '\n')
		if w.Code != http.StatusCreated || w.Body.String() != string(want) || w.writes != 1 {
			t.Fatalf("%d: %d, %d writes, %q, want %q", i, w.Code, w.writes, w.Body, want)
		}
		if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(len(want)) || w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%d: headers %v", i, w.Header())
		}
	}
	w := &writeCounter{ResponseRecorder: httptest.NewRecorder()}
	writeJSON(w, http.StatusOK, make(chan int))
	if w.writes != 0 || w.Header().Get("Content-Length") != "" {
		t.Fatalf("an unencodable value: %d writes, headers %v", w.writes, w.Header())
	}
}

// TestWriteJSONOverHTTP: behind net/http a long answer is sent with its
// Content-Length, not chunked.
func TestWriteJSONOverHTTP(t *testing.T) {
	v := &TokenResponse{AccessToken: strings.Repeat("a", 3000), TokenType: "Bearer"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, v) }))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	want, _ := json.Marshal(v)
	if resp.ContentLength != int64(len(want)+1) || len(resp.TransferEncoding) != 0 {
		t.Fatalf("Content-Length %d, Transfer-Encoding %v", resp.ContentLength, resp.TransferEncoding)
	}
}

// TestCodeRedirect: the login's redirect is the string withQuery makes
// of url.Values{"code", "state"}, for redirect URIs with and without a
// query and states with every kind of character.
func TestCodeRedirect(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 5))
	uris := []string{"https://rp.example/cb", "https://rp.example/cb?x=1", "http://127.0.0.1:9/callback", "com.example.app:/cb?a=b&c"}
	for i := range 3000 {
		uri, code, state := uris[i%len(uris)], randomText(r, 43), randomText(r, 30)
		want := withQuery(uri, url.Values{"code": {code}, "state": {state}})
		if got := codeRedirect(uri, code, state); got != want {
			t.Fatalf("%q %q %q:\n got %s\nwant %s", uri, code, state, got, want)
		}
	}
}

// TestRandomToken: from crypto/rand (the stack path) and from any other
// reader (the heap path) a token is n bytes base64url, as the reader gave
// them, for every length the gateway asks and a longer one.
func TestRandomToken(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range []int{12, 16, 18, 24, 32, 48} {
		for _, r := range []io.Reader{crand.Reader, cryptoRand{}} {
			tok, err := randomToken(r, n)
			if err != nil {
				t.Fatal(err)
			}
			b, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil || len(b) != n || seen[tok] {
				t.Fatalf("n %d: %q (%v, %d bytes, seen before %v)", n, tok, err, len(b), seen[tok])
			}
			seen[tok] = true
		}
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i * 7)
		}
		tok, err := randomToken(bytes.NewReader(src), n)
		if err != nil || tok != base64.RawURLEncoding.EncodeToString(src) {
			t.Fatalf("n %d from a reader: %q %v", n, tok, err)
		}
		if _, err := randomToken(bytes.NewReader(src[:n-1]), n); err == nil {
			t.Fatalf("n %d: a short reader gave a token", n)
		}
	}
}
