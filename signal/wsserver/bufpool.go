package wsserver

import "sync"

// bufPool hands out byte buffers in a few size classes, so that a small
// batch does not take (and a pool does not keep) a large buffer.
type bufPool struct {
	classes [len(bufClasses)]sync.Pool
}

// bufClasses are the buffer capacities the pool keeps. Anything larger
// is allocated for the occasion and left to the garbage collector.
var bufClasses = [...]int{2 << 10, 8 << 10, 32 << 10, 128 << 10}

func newBufPool() *bufPool {
	p := &bufPool{}
	for i, size := range bufClasses {
		p.classes[i].New = func() any { b := make([]byte, 0, size); return &b }
	}
	return p
}

// get returns an empty buffer that can hold at least n bytes.
func (p *bufPool) get(n int) *[]byte {
	for i, size := range bufClasses {
		if n <= size {
			return p.classes[i].Get().(*[]byte)
		}
	}
	b := make([]byte, 0, n)
	return &b
}

// put returns b to its class; buffers of no class are dropped.
func (p *bufPool) put(b *[]byte) {
	for i, size := range bufClasses {
		if cap(*b) == size {
			*b = (*b)[:0]
			p.classes[i].Put(b)
			return
		}
	}
}
