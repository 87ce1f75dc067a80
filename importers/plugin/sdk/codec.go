package sdk

import (
	"sync"
	"sync/atomic"

	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the "proto" codec
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/plakar-gw/plakar-gw/importers/plugin/internal/wire"
	"github.com/plakar-gw/plakar-gw/importers/plugin/pluginpb"
)

// contentCodec is the proto codec with a shortcut for file content: the
// bytes of an OpenResponse go to the transport in the pooled buffer they
// were read into, which returns to the pool once written, instead of
// being copied into a new message buffer first. Same wire format.
type contentCodec struct {
	encoding.CodecV2
	held sync.Map // *pluginpb.OpenResponse -> *[]byte backing its Data
}

// content is installed by ServeServer; a server built by NewServer and
// served some other way copies as usual.
var (
	content   = &contentCodec{CodecV2: encoding.GetCodecV2("proto")}
	installed atomic.Bool
)

// chunkPool holds the ChunkSize buffers of Open; it is the mem.BufferPool
// gRPC gives them back to.
type chunkPool struct{ p sync.Pool }

var chunks = &chunkPool{p: sync.Pool{New: func() any {
	b := make([]byte, wire.ChunkSize)
	return &b
}}}

func (c *chunkPool) Get(int) *[]byte {
	b := c.p.Get().(*[]byte)
	*b = (*b)[:cap(*b)]
	return b
}

func (c *chunkPool) Put(b *[]byte) { c.p.Put(b) }

// hold marks m.Data as living in b, for Marshal; false when the codec is
// not in use (then the caller keeps b).
func (c *contentCodec) hold(m *pluginpb.OpenResponse, b *[]byte) bool {
	if !installed.Load() || len(m.Data) == 0 {
		return false
	}
	c.held.Store(m, b)
	return true
}

// unhold takes back b when m was never marshalled (Send failed first).
func (c *contentCodec) unhold(m *pluginpb.OpenResponse) (*[]byte, bool) {
	b, ok := c.held.LoadAndDelete(m)
	if !ok {
		return nil, false
	}
	return b.(*[]byte), true
}

func (c *contentCodec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(*pluginpb.OpenResponse); ok {
		if b, ok := c.unhold(m); ok {
			hdr := protowire.AppendTag(make([]byte, 0, 12), 1, protowire.BytesType)
			hdr = protowire.AppendVarint(hdr, uint64(len(m.Data)))
			*b = (*b)[:len(m.Data)]
			return mem.BufferSlice{mem.SliceBuffer(hdr), mem.NewBuffer(b, chunks)}, nil
		}
	}
	return c.CodecV2.Marshal(v)
}
