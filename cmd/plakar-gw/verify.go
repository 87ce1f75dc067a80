package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/crypto"
	"github.com/plakar-gw/plakar-gw/engine/sign"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

func newVerifyCmd(a *app) *cobra.Command {
	var trusted []string
	var deep bool
	cmd := &cobra.Command{
		Use:   "verify SNAP [--trusted-key PUB]... [--deep]",
		Short: "Check the signatures of a snapshot",
		Long: `Check every signature of the snapshot against its header and against the
trusted keys (--trusted-key, repeatable, plus signing.trusted_keys). With
--deep every tree node and chunk of the snapshot is also read back and
checked, so tampered content is found, not only a tampered header.

Prints each signature (key id, valid or invalid, trusted or untrusted), the
problems found, and the verdict: trusted, untrusted, unsigned or invalid.
Exit code: 0 trusted, 4 unsigned or untrusted, 5 invalid (a bad signature,
tampered content, or a snapshot header that cannot be read).`,
		Example: `  plakar-gw verify latest --trusted-key "plakar-gw-ed25519 AAAA... 0123456789abcdef"
  plakar-gw verify --deep --json home-latest`,
		Args: checkArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.verify(cmd.Context(), args[0], trusted, deep)
		},
	}
	cmd.Flags().StringArrayVar(&trusted, "trusted-key", nil, "trust the public key `PUB` (one-line form; repeatable)")
	cmd.Flags().BoolVar(&deep, "deep", false, "also read back and check all the snapshot's content")
	return cmd
}

// corrupt reports an error of a header that exists but fails its checks.
func corrupt(err error) bool {
	return errors.Is(err, vfs.ErrCorrupt) || errors.Is(err, crypto.ErrAuth)
}

func (a *app) verify(ctx context.Context, name string, trustedFlags []string, deep bool) error {
	trusted, err := a.trustedKeys(trustedFlags)
	if err != nil {
		return err
	}
	r, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	s, err := r.FindSnapshot(ctx, name)
	if err != nil {
		return a.verifyFindError(ctx, r, name, err)
	}
	rep, err := r.VerifySnapshot(ctx, s, engine.VerifyOptions{Trusted: trusted, Deep: deep})
	if err != nil {
		return err
	}
	if err := a.printVerify(rep, deep); err != nil {
		return err
	}
	switch rep.Verdict {
	case "trusted":
		return nil
	case "invalid":
		return withCode(exitInvalid, fmt.Errorf("snapshot %s is invalid", rep.ID))
	default:
		return withCode(exitUntrusted, fmt.Errorf("snapshot %s is %s", rep.ID, rep.Verdict))
	}
}

// verifyFindError turns a snapshot header that cannot be read into an
// "invalid" verdict (exit 5).
func (a *app) verifyFindError(ctx context.Context, r *engine.Repository, name string, err error) error {
	if corrupt(err) {
		return a.unreadable(strings.TrimPrefix(strings.ToLower(name), "snap-"), err)
	}
	if errors.Is(err, fs.ErrNotExist) {
		// A prefix is matched against readable headers only: look for
		// an unreadable one it names.
		prefix := strings.TrimPrefix(strings.ToLower(name), "snap-")
		if _, bad, lerr := r.ListSnapshots(ctx); lerr == nil && len(prefix) >= 4 {
			for id, berr := range bad {
				if strings.HasPrefix(id, prefix) && corrupt(berr) {
					return a.unreadable(id, berr)
				}
			}
		}
		return fmt.Errorf("no snapshot matches %q", name)
	}
	return err
}

func (a *app) unreadable(id string, err error) error {
	if a.json {
		a.printJSON(engine.VerifyReport{ID: id, Verdict: "invalid", Signatures: []engine.SigStatus{},
			Problems: []string{err.Error()}})
	}
	return withCode(exitInvalid, fmt.Errorf("snapshot %s is invalid: its header cannot be read (tampered or damaged): %v", id, err))
}

func (a *app) printVerify(rep *engine.VerifyReport, deep bool) error {
	if a.json {
		if rep.Signatures == nil {
			rep.Signatures = []engine.SigStatus{}
		}
		return a.printJSON(rep)
	}
	w := a.stdout
	fmt.Fprintf(w, "snapshot %s\n", rep.ID)
	for _, s := range rep.Signatures {
		valid, trust := "valid", "untrusted"
		if !s.Valid {
			valid = "INVALID"
		}
		if s.Trusted {
			trust = "trusted"
		}
		fmt.Fprintf(w, "  signature %s: %s, %s\n", s.KeyID, valid, trust)
	}
	if len(rep.Signatures) == 0 {
		fmt.Fprintln(w, "  no signatures")
	}
	if deep {
		fmt.Fprintf(w, "  %d blobs checked\n", rep.Blobs)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	_, err := fmt.Fprintf(w, "verdict: %s\n", rep.Verdict)
	return err
}

// signatureJSON is the signature status of a snapshot in --json lists.
type signatureJSON struct {
	Status     string             `json:"status"`
	Signatures []engine.SigStatus `json:"signatures"`
}

func signatureOf(s *snapshot.Snapshot, trusted []sign.PublicKey) signatureJSON {
	sigs := engine.Signatures(s, trusted)
	return signatureJSON{Status: engine.StatusText(sigs), Signatures: sigs}
}
