package engine

import (
	"context"
	"fmt"
	"io/fs"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/sign"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
)

// Policy decides which snapshots the frontends see (through Snapshots and
// OpenSnapshot). The CLI's own commands see every snapshot.
type Policy struct {
	Trusted []sign.PublicKey
	// RequireSignature hides snapshots without a valid signature by a
	// trusted key.
	RequireSignature bool
}

// SetPolicy replaces the read policy; safe while frontends are serving.
func (r *Repository) SetPolicy(p Policy) {
	r.policyMu.Lock()
	r.policy = p
	r.policyMu.Unlock()
}

func (r *Repository) currentPolicy() Policy {
	r.policyMu.RLock()
	defer r.policyMu.RUnlock()
	return r.policy
}

// SigStatus is the state of one signature of a snapshot.
type SigStatus struct {
	KeyID   string `json:"key_id"`
	Valid   bool   `json:"valid"`
	Trusted bool   `json:"trusted"`
}

// Signatures checks every signature of s against its canonical bytes.
func Signatures(s *snapshot.Snapshot, trusted []sign.PublicKey) []SigStatus {
	out := make([]SigStatus, 0, len(s.Signatures))
	for _, sg := range s.Signatures {
		st := SigStatus{KeyID: sg.KeyID}
		pub, err := sign.PublicFromBytes(sg.PublicKey)
		if err == nil && pub.ID() == sg.KeyID && pub.Verify(s.Canonical, sg.Sig) {
			st.Valid = true
			for _, t := range trusted {
				st.Trusted = st.Trusted || t.Equal(pub)
			}
		}
		out = append(out, st)
	}
	return out
}

// Verdict summarises signatures: "invalid" if any fails, "unsigned" if
// there are none, "trusted" if a valid one is by a trusted key, else
// "untrusted".
func Verdict(sigs []SigStatus) string {
	v := "unsigned"
	for _, s := range sigs {
		if !s.Valid {
			return "invalid"
		}
		if s.Trusted {
			v = "trusted"
		} else if v == "unsigned" {
			v = "untrusted"
		}
	}
	return v
}

// StatusText is the signature status for people: "unsigned", "signed by
// KEYID" (", trusted" when it is), or "invalid".
func StatusText(sigs []SigStatus) string {
	switch v := Verdict(sigs); v {
	case "unsigned", "invalid":
		return v
	}
	for _, s := range sigs {
		if s.Trusted {
			return "signed by " + s.KeyID + ", trusted"
		}
	}
	return "signed by " + sigs[0].KeyID
}

// allows applies the policy to a snapshot's checked signatures.
func (p Policy) allows(sigs []SigStatus) bool {
	return !p.RequireSignature || Verdict(sigs) == "trusted"
}

func signatureOf(k *sign.PrivateKey, canonical []byte) snapshot.Signature {
	return snapshot.Signature{KeyID: k.Public().ID(), PublicKey: k.Public().Bytes(), Sig: k.Sign(canonical)}
}

// SignSnapshot adds k's signature to s (replacing an older one by the same
// key) and rewrites its header object. The canonical bytes, and so the id,
// do not change.
func (r *Repository) SignSnapshot(ctx context.Context, s *snapshot.Snapshot, k *sign.PrivateKey) (*snapshot.Snapshot, error) {
	out := *s
	out.Signatures = nil
	for _, sg := range s.Signatures {
		if sg.KeyID != k.Public().ID() {
			out.Signatures = append(out.Signatures, sg)
		}
	}
	out.Signatures = append(out.Signatures, signatureOf(k, s.Canonical))
	return &out, r.PutSnapshot(ctx, &out)
}

// VerifyOptions select what VerifySnapshot checks.
type VerifyOptions struct {
	Trusted []sign.PublicKey
	// Deep re-reads every tree node and chunk of the snapshot and checks
	// each against its id, so tampered content is found, not only a
	// tampered header.
	Deep bool
}

// VerifyReport is what VerifySnapshot found.
type VerifyReport struct {
	ID         string      `json:"id"`
	Verdict    string      `json:"verdict"` // trusted, untrusted, unsigned, invalid
	Signatures []SigStatus `json:"signatures"`
	Blobs      int         `json:"blobs_checked,omitempty"`
	Problems   []string    `json:"problems,omitempty"`
}

// VerifySnapshot checks the signatures of s and, with Deep, its content.
// Content problems make the verdict "invalid".
func (r *Repository) VerifySnapshot(ctx context.Context, s *snapshot.Snapshot, o VerifyOptions) (*VerifyReport, error) {
	rep := &VerifyReport{ID: s.ID.String(), Signatures: Signatures(s, o.Trusted)}
	rep.Verdict = Verdict(rep.Signatures)
	if o.Deep {
		if err := r.verifyContent(ctx, s, rep); err != nil {
			return nil, err
		}
		if len(rep.Problems) > 0 {
			rep.Verdict = "invalid"
		}
	}
	return rep, nil
}

// verifyContent reads every blob the snapshot uses, on several goroutines:
// each read checks the AEAD and recomputes the id from the plaintext.
func (r *Repository) verifyContent(ctx context.Context, s *snapshot.Snapshot, rep *VerifyReport) error {
	used := map[blob.ID]blob.Type{}
	var mu sync.Mutex
	fail := func(format string, args ...any) error {
		mu.Lock()
		rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
		mu.Unlock()
		return nil
	}
	if err := r.markSnapshot(ctx, s, used, fail); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	// Tree nodes were decoded by the walk, possibly from the local cache:
	// read them again from their packs like the chunks.
	for id, t := range used {
		g.Go(func() error {
			if _, err := r.LoadBlob(gctx, id); err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				fail("%s blob %s: %v", t, id, err)
			}
			return nil
		})
	}
	rep.Blobs = len(used)
	return g.Wait()
}

// errHidden is what OpenSnapshot answers for a snapshot the policy hides.
func errHidden(name string) error {
	return &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}
