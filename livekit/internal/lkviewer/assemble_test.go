package lkviewer

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/assert"
)

// pkts returns the packets of a frame at ts from seq on: a VP8
// descriptor byte (S set on the first) and one payload byte each.
func pkts(seq uint16, ts uint32, payload ...byte) []*rtp.Packet {
	var ps []*rtp.Packet
	for i, b := range payload {
		desc := byte(0)
		if i == 0 {
			desc = 0x10
		}
		ps = append(ps, &rtp.Packet{
			Header:  rtp.Header{SequenceNumber: seq + uint16(i), Timestamp: ts, Marker: i == len(payload)-1},
			Payload: []byte{desc, b},
		})
	}
	return ps
}

func TestAssemblerInOrder(t *testing.T) {
	a := newAssembler()
	now := time.Now()
	var got [][]byte
	for _, p := range append(pkts(65534, 1, 'a', 'b', 'c'), pkts(1, 2, 'd')...) {
		f, lost := a.push(p, now)
		assert.False(t, lost)
		got = append(got, f...)
	}
	assert.Equal(t, [][]byte{[]byte("abc"), []byte("d")}, got)
}

// A frame is returned when its marker packet is in, without waiting for
// the next frame; reordered and repeated packets change nothing.
func TestAssemblerReordered(t *testing.T) {
	a := newAssembler()
	now := time.Now()
	f1, f2 := pkts(10, 1, 'a', 'b', 'c'), pkts(13, 2, 'd', 'e')
	for _, p := range []*rtp.Packet{f1[0], f1[2], f2[0]} {
		f, lost := a.push(p, now)
		assert.Empty(t, f)
		assert.False(t, lost)
	}
	f, _ := a.push(f1[1], now)
	assert.Equal(t, [][]byte{[]byte("abc")}, f)
	f, _ = a.push(f1[1], now)
	assert.Empty(t, f)
	f, lost := a.push(f2[1], now)
	assert.Equal(t, [][]byte{[]byte("de")}, f)
	assert.False(t, lost)
}

// A packet that never comes costs its frame, once lossWait has passed.
func TestAssemblerLoss(t *testing.T) {
	a := newAssembler()
	now := time.Now()
	f1, f2, f3 := pkts(10, 1, 'a', 'b'), pkts(12, 2, 'c'), pkts(13, 3, 'd')
	a.push(f1[0], now)
	f, lost := a.push(f2[0], now)
	assert.Empty(t, f)
	assert.False(t, lost)
	f, lost = a.push(f3[0], now.Add(lossWait))
	assert.True(t, lost)
	assert.Equal(t, [][]byte{[]byte("c"), []byte("d")}, f)
}
