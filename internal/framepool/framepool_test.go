package framepool

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPool(t *testing.T) {
	var p Pool
	assert.Nil(t, p.Get(), "an empty pool")
	a := make([]byte, 10)
	p.Put(a)
	b := p.Get()
	assert.Len(t, b, 0)
	assert.Equal(t, 10, cap(b))
	assert.Same(t, &a[0], &b[:1][0], "the same memory comes back")

	for range Max + 2 {
		p.Put(make([]byte, 8))
	}
	n := 0
	for p.Get() != nil {
		n++
	}
	assert.Equal(t, Max, n, "the pool keeps at most Max")

	p.Put(nil)
	assert.Nil(t, p.Get(), "nothing kept of a buffer without capacity")

	p.Put(make([]byte, 4))
	assert.Len(t, p.Sized(16), 16, "too small: a new buffer")
	p.Put(make([]byte, 32))
	s := p.Sized(16)
	assert.Len(t, s, 16)
	assert.Equal(t, 32, cap(s), "big enough: the kept one")
}
