package fleet

import (
	"context"
	"testing"
)

// BenchmarkListInfo: what GET /api/v1/phones costs per listed phone —
// Info of each phone in use, most of whose cards are put away (MaxCards
// 10 of 2,000) and whose keys left the key cache (100 cards' worth), as
// after a load run bigger than the caches; the phones were listed once.
func BenchmarkListInfo(b *testing.B) {
	ctx := context.Background()
	f, err := New(Config{MaxCards: 10, KeyCache: 100})
	if err != nil {
		b.Fatal(err)
	}
	const n = 2000
	for i := range n {
		if _, err := f.Phone(ctx, FleetNumber(i)); err != nil {
			b.Fatal(err)
		}
	}
	for _, p := range f.List() { // the first listing, as the page's first look
		p.Info()
	}
	b.ResetTimer()
	for range b.N {
		for _, p := range f.List() {
			if p.Info().MSISDN == "" {
				b.Fatal("no number")
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/phone")
}
