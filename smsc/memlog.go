package smsc

import "sort"

// memLog is MemStore's log: its entries in ascending sequence number, in a
// ring whose size is a power of two. Appending never moves what is held:
// forgetting the oldest message advances the start, and the ring grows (a
// copy) only when live entries fill it, so a store at its limit appends and
// forgets without allocating. (A slice appended at the back and cut at the
// front, as before, was copied into a new array every few hundred thousand
// messages: tens of megabytes allocated and copied under the store's lock
// on the submit path, docs/benchmarks.md (w).) Deleted entries (m == nil)
// left inside are squeezed out in place once they are many.
type memLog struct {
	ring  []memEntry // len(ring) is 0 or a power of two
	start int        // ring index of entry 0
	n     int        // entries, deleted ones included
	dead  int        // deleted entries among them
}

// minLogRing is the smallest ring allocated.
const minLogRing = 1024

// len returns the number of entries, deleted ones included.
func (l *memLog) len() int { return l.n }

// at returns entry i (0 is the oldest).
func (l *memLog) at(i int) *memEntry { return &l.ring[(l.start+i)&(len(l.ring)-1)] }

// push appends e, whose sequence number is above every other.
func (l *memLog) push(e memEntry) {
	if l.n == len(l.ring) {
		if l.dead >= l.n/4 && l.dead > 0 {
			l.squeeze()
		}
		if l.n == len(l.ring) {
			l.resize(max(minLogRing, 2*len(l.ring)))
		}
	}
	*l.at(l.n) = e
	l.n++
}

// drop marks entry i deleted.
func (l *memLog) drop(i int) {
	l.at(i).m = nil
	l.dead++
}

// tidy forgets deleted entries at the front, squeezes the others out once
// they are more than half, and gives memory back when the ring is mostly
// empty.
func (l *memLog) tidy() {
	mask := len(l.ring) - 1
	for l.n > 0 && l.ring[l.start].m == nil {
		l.ring[l.start] = memEntry{}
		l.start = (l.start + 1) & mask
		l.n--
		l.dead--
	}
	if l.dead > 1024 && l.dead > l.n/2 {
		l.squeeze()
	}
	if len(l.ring) > 4*minLogRing && l.n < len(l.ring)/8 {
		l.resize(len(l.ring) / 4)
	}
}

// squeeze moves the live entries together, in order, in place.
func (l *memLog) squeeze() {
	j := 0
	for i := 0; i < l.n; i++ {
		if e := l.at(i); e.m != nil {
			if i != j {
				*l.at(j) = *e
			}
			j++
		}
	}
	for i := j; i < l.n; i++ {
		*l.at(i) = memEntry{}
	}
	l.n, l.dead = j, 0
}

// resize copies the live entries into a new ring of size (a power of two,
// above the live entries' number).
func (l *memLog) resize(size int) {
	ring := make([]memEntry, size)
	j := 0
	for i := 0; i < l.n; i++ {
		if e := l.at(i); e.m != nil {
			ring[j] = *e
			j++
		}
	}
	l.ring, l.start, l.n, l.dead = ring, 0, j, 0
}

// search returns the index of the first entry whose sequence number is q
// or above (len() if none).
func (l *memLog) search(q uint64) int {
	// Fast path: no deleted entries squeezed out below q's place (the
	// common case of a log appended in order), entry i holds first+i.
	if l.n > 0 {
		if first := l.at(0).seq; q <= first {
			return 0
		} else if i := q - first; i < uint64(l.n) && l.at(int(i)).seq == q {
			return int(i)
		}
	}
	return sort.Search(l.n, func(i int) bool { return l.at(i).seq >= q })
}

// find returns the index of the entry with sequence number q, or -1.
func (l *memLog) find(q uint64) int {
	if i := l.search(q); i < l.n && l.at(i).seq == q {
		return i
	}
	return -1
}
