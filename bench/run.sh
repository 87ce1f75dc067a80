#!/usr/bin/env bash
# Benchmark plakar-gw against restic and borg. See bench/README.md.
#
# usage: bench/run.sh [--size 2GiB] [--work DIR] [--tools plakar-gw,restic,borg]
#                     [--datasets mixed,goroot] [--seed 1]
set -euo pipefail

SIZE=2GiB
WORK=/tmp/plakar-gw-bench
TOOLS=plakar-gw,restic,borg
DATASETS=mixed,goroot
SEED=1
ALL_TOOLS=(plakar-gw restic borg)
ALL_DATASETS=(mixed goroot)

usage() {
	cat <<EOF
usage: $0 [options]
  --size SIZE       size of the generated "mixed" dataset (default $SIZE; e.g. 64MiB for a quick run)
  --work DIR        work directory (default $WORK; needs ~10.5 GiB free with the defaults)
  --tools LIST      comma-separated subset of: ${ALL_TOOLS[*]} (default $TOOLS)
  --datasets LIST   comma-separated subset of: ${ALL_DATASETS[*]} (default $DATASETS)
  --seed N          seed of the generated dataset (default $SEED)
environment:
  PLAKAR_GW_BIN     benchmark this prebuilt plakar-gw binary instead of building ./cmd/plakar-gw
  PLAKAR_GW_INIT_FLAGS  extra flags for plakar-gw init, e.g. "--compression s2"
EOF
}

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf '!!! %s\n' "$*" >&2; }
die() {
	printf 'ERROR: %s\n' "$*" >&2
	exit 1
}

while (($#)); do
	case $1 in
	--size | --work | --tools | --datasets | --seed)
		(($# >= 2)) || die "$1 needs a value"
		opt=${1#--}
		val=$2
		shift 2
		;;
	--size=* | --work=* | --tools=* | --datasets=* | --seed=*)
		opt=${1%%=*}
		opt=${opt#--}
		val=${1#*=}
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		die "unknown argument: $1"
		;;
	esac
	case $opt in
	size) SIZE=$val ;;
	work) WORK=$val ;;
	tools) TOOLS=$val ;;
	datasets) DATASETS=$val ;;
	seed) SEED=$val ;;
	esac
done

contains() { # contains WORD LIST...
	local w=$1 x
	shift
	for x in "$@"; do [[ $x == "$w" ]] && return 0; done
	return 1
}

IFS=, read -r -a TOOL_LIST <<<"$TOOLS"
IFS=, read -r -a DS_LIST <<<"$DATASETS"
((${#TOOL_LIST[@]})) || die "--tools is empty"
((${#DS_LIST[@]})) || die "--datasets is empty"
for t in "${TOOL_LIST[@]}"; do contains "$t" "${ALL_TOOLS[@]}" || die "unknown tool '$t' (known: ${ALL_TOOLS[*]})"; done
for d in "${DS_LIST[@]}"; do contains "$d" "${ALL_DATASETS[@]}" || die "unknown dataset '$d' (known: ${ALL_DATASETS[*]})"; done
[[ $SEED =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer"

# size_bytes 2GiB -> 2147483648 (same units as bench/gendata).
size_bytes() {
	local s=${1// /}
	case $s in
	*[KMGT]iB | *[KMGT]i) numfmt --from=iec-i "${s%B}" ;;
	*[KMGT]B) numfmt --from=si "${s%B}" ;;
	*[KMGT]) numfmt --from=iec "$s" ;;
	*B) numfmt --from=none "${s%B}" ;;
	*) numfmt --from=none "$s" ;;
	esac
}
SIZE_BYTES=$(size_bytes "$SIZE" 2>/dev/null) || die "invalid --size '$SIZE' (examples: 64MiB, 2GiB, 500MB)"
((SIZE_BYTES > 0)) || die "invalid --size '$SIZE'"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v go >/dev/null || die "go is not in PATH"

# --- work directory ---------------------------------------------------------
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
[[ $WORK != / ]] || die "refusing to use / as work directory"
MARKER=$WORK/.plakar-gw-bench
if [[ ! -e $MARKER && -n $(ls -A "$WORK") ]]; then
	die "$WORK is not empty and was not created by this script; refusing to clean it (use another --work)"
fi
touch "$MARKER"
for d in data repos cache restore logs; do
	if [[ -e $WORK/$d ]]; then
		chmod -R u+w "$WORK/$d" 2>/dev/null || true
		rm -rf "${WORK:?}/$d"
	fi
done
rm -f "$WORK/results.md" "$WORK/results.tsv" "$WORK/plakar-gw" "$WORK/gendata"
mkdir -p "$WORK"/{data,repos,cache,restore,logs}
LOGS=$WORK/logs

# --- prerequisites ----------------------------------------------------------
pkgs=()
[[ -x /usr/bin/time ]] || pkgs+=(time)
contains restic "${TOOL_LIST[@]}" && ! command -v restic >/dev/null && pkgs+=(restic)
contains borg "${TOOL_LIST[@]}" && ! command -v borg >/dev/null && pkgs+=(borgbackup)
if ((${#pkgs[@]})); then
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		log "installing ${pkgs[*]} with apt-get (log: $LOGS/apt.log)"
		if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}"; } >"$LOGS/apt.log" 2>&1; then
			warn "apt-get failed:"
			tail -n 20 "$LOGS/apt.log" >&2
		fi
	else
		warn "missing packages: ${pkgs[*]} (not root or no apt-get; install them yourself)"
	fi
fi
[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) is required: apt-get install time"

declare -A TOOL_STATUS=() # tool -> reason it is not measured
TOOL_BIN_PG=$WORK/plakar-gw
if contains restic "${TOOL_LIST[@]}" && ! command -v restic >/dev/null; then TOOL_STATUS[restic]="not installed"; fi
if contains borg "${TOOL_LIST[@]}" && ! command -v borg >/dev/null; then TOOL_STATUS[borg]="not installed"; fi
if contains plakar-gw "${TOOL_LIST[@]}" && [[ -n ${PLAKAR_GW_BIN:-} ]]; then
	# Benchmark a prebuilt binary instead of building the module.
	[[ -x $PLAKAR_GW_BIN ]] || die "PLAKAR_GW_BIN=$PLAKAR_GW_BIN is not executable"
	cp "$PLAKAR_GW_BIN" "$TOOL_BIN_PG"
	log "using prebuilt plakar-gw from PLAKAR_GW_BIN=$PLAKAR_GW_BIN"
elif contains plakar-gw "${TOOL_LIST[@]}"; then
	log "building plakar-gw"
	if (cd "$ROOT" && go build -o "$TOOL_BIN_PG" ./cmd/plakar-gw) >"$LOGS/build-plakar-gw.log" 2>&1; then
		log "built $TOOL_BIN_PG"
	else
		TOOL_STATUS[plakar-gw]="build failed"
		warn "building plakar-gw failed; continuing without it. Build output:"
		sed 's/^/    /' "$LOGS/build-plakar-gw.log" | head -n 30 >&2
	fi
fi
if contains mixed "${DS_LIST[@]}"; then
	(cd "$ROOT" && go build -o "$WORK/gendata" ./bench/gendata) || die "building bench/gendata failed"
fi

ACTIVE=()
for t in "${TOOL_LIST[@]}"; do [[ -n ${TOOL_STATUS[$t]:-} ]] || ACTIVE+=("$t"); done
((${#ACTIVE[@]})) || warn "no tool can be measured"

# --- disk space -------------------------------------------------------------
GOROOT_DIR=$(go env GOROOT)
GOROOT_BYTES=0
contains goroot "${DS_LIST[@]}" && GOROOT_BYTES=$(du -sb "$GOROOT_DIR" | cut -f1)
MIXED_BYTES=0
contains mixed "${DS_LIST[@]}" && MIXED_BYTES=$SIZE_BYTES
# data + one restore + one repository per tool (at most ~0.85x the data: half of
# the mixed dataset is incompressible, plus the changed ingest) + slack.
# About 10.5 GiB for the defaults.
NEED=$(((MIXED_BYTES + GOROOT_BYTES) * (200 + 85 * ${#ACTIVE[@]}) / 100 + (512 << 20)))
AVAIL=$(df -B1 --output=avail "$WORK" | tail -n 1 | tr -d ' ')
gib() { awk -v b="$1" 'BEGIN { printf "%.1f GiB", b / 1073741824 }'; }
if ((AVAIL < NEED)); then
	die "not enough free space in $WORK: $(gib "$AVAIL") available, about $(gib "$NEED") needed (use --work elsewhere or a smaller --size)"
fi
log "free space: $(gib "$AVAIL") available, about $(gib "$NEED") needed"

# --- page cache -------------------------------------------------------------
if (sync && echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
	CACHE_MODE=cold
	log "page cache is dropped before each timed step"
else
	CACHE_MODE=warm
	warn "cannot write /proc/sys/vm/drop_caches: running with a WARM page cache"
fi
drop_caches() {
	sync
	if [[ $CACHE_MODE == cold ]]; then echo 3 >/proc/sys/vm/drop_caches; fi
}

# --- secrets (benchmark-only) -------------------------------------------------
PASS=plakar-gw-bench-passphrase
export PLAKAR_GW_PASSPHRASE=$PASS RESTIC_PASSWORD=$PASS BORG_PASSPHRASE=$PASS

# --- measurement helpers ----------------------------------------------------
declare -A R=()     # "ds|tool|step" -> "wall user sys rssKiB rc"
declare -A ST=()    # "ds|tool|step" -> ok | partial | fail
declare -A SIZES=() # "ds|tool|what" -> bytes
declare -A VERIFY=()
declare -A DSB=() # "ds|version" -> dataset bytes
printf 'dataset\ttool\tstep\twall_s\tuser_s\tsys_s\tmaxrss_kib\texit\n' >"$WORK/results.tsv"

# timed KEY CMD... : run CMD under /usr/bin/time; output goes to $LOGS.
timed() {
	local key=$1 rc=0 f t a b c
	shift
	f=$LOGS/${key//|/.}
	drop_caches
	/usr/bin/time -f '%e %U %S %M' -o "$f.time" "$@" >"$f.out" 2>"$f.err" || rc=$?
	t=$(tail -n 1 "$f.time" 2>/dev/null || true)
	[[ $t =~ ^[0-9.]+\ [0-9.]+\ [0-9.]+\ [0-9]+$ ]] || t="0 0 0 0"
	R[$key]="$t $rc"
	IFS='|' read -r a b c <<<"$key"
	printf '%s\t%s\t%s\t%s\t%s\n' "$a" "$b" "$c" "${t// /$'\t'}" "$rc" >>"$WORK/results.tsv"
	return "$rc"
}

# step DS TOOL STEP CMD... : timed step with error reporting; returns 0 on success/partial.
step() {
	local ds=$1 tool=$2 name=$3 rc=0 key w u s m
	shift 3
	key="$ds|$tool|$name"
	log "[$ds] $tool: $name"
	timed "$key" "$@" || rc=$?
	if ((rc == 0)); then
		ST[$key]=ok
	elif [[ $name == @(ingest1|unchanged|changed) ]] && { [[ $tool != borg && $rc == 3 ]] || [[ $tool == borg && $rc == 1 ]]; }; then
		ST[$key]=partial
		warn "$tool $name on $ds finished with warnings (exit $rc, partial snapshot); stderr tail:"
		tail -n 10 "$LOGS/${key//|/.}.err" | sed 's/^/    /' >&2
	else
		ST[$key]=fail
		warn "$tool $name on $ds FAILED (exit $rc); stderr (${LOGS}/${key//|/.}.err):"
		tail -n 30 "$LOGS/${key//|/.}.err" | sed 's/^/    /' >&2
		return 1
	fi
	read -r w u s m _ <<<"${R[$key]}"
	log "    ${w}s wall, $(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')s CPU, $((m / 1024)) MiB RSS"
}

# combine DS TOOL NEW A B : NEW = A then B (sum of times, max of RSS).
combine() {
	local k="$1|$2" wa ua sa ma ra wb ub sb mb rb
	read -r wa ua sa ma ra <<<"${R[$k|$4]}"
	read -r wb ub sb mb rb <<<"${R[$k|$5]}"
	R[$k|$3]=$(awk -v wa="$wa" -v wb="$wb" -v ua="$ua" -v ub="$ub" -v sa="$sa" -v sb="$sb" \
		-v ma="$ma" -v mb="$mb" -v rc="$rb" 'BEGIN { printf "%.2f %.2f %.2f %d %d", wa+wb, ua+ub, sa+sb, (ma>mb?ma:mb), rc }')
	ST[$k|$3]=${ST[$k|$5]}
}

tree_bytes() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d\n", s }'; }
dir_bytes() { if [[ -e $1 ]]; then du -sb "$1" | cut -f1; else echo 0; fi; }

# tool_cmd TOOL DS : sets CMD to the tool's base command for this dataset.
tool_cmd() {
	local repo=$WORK/repos/$1-$2 cache=$WORK/cache/$1-$2
	case $1 in
	plakar-gw) CMD=("$TOOL_BIN_PG" --repo "$repo" --cache-dir "$cache") ;;
	restic) CMD=(restic -r "$repo" --cache-dir "$cache") ;;
	borg) CMD=(env BORG_BASE_DIR="$cache" borg) ;;
	esac
}

# pg_latest DS : prints the id of the newest plakar-gw snapshot.
pg_latest() {
	local json
	tool_cmd plakar-gw "$1"
	json=$("${CMD[@]}" snapshots --json 2>>"$LOGS/$1.plakar-gw.snapshots-json.err") || return 1
	if command -v jq >/dev/null; then
		jq -er '.[0].id' <<<"$json"
	elif command -v python3 >/dev/null; then
		python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])' <<<"$json"
	else
		grep -oE '"id"[[:space:]]*:[[:space:]]*("[^"]*"|[0-9]+)' <<<"$json" | head -n 1 | sed -E 's/.*:[[:space:]]*"?([^"]*)"?/\1/'
	fi
}

declare -A OK=()   # "ds|tool" -> 1 when the repository exists and holds a snapshot
declare -A LAST=() # "ds|tool" -> latest borg archive name

# ingest DS TOOL N STEP
ingest() {
	local ds=$1 tool=$2 n=$3 name=$4 src=$WORK/data/$1 repo=$WORK/repos/$2-$1
	tool_cmd "$tool" "$ds"
	case $tool in
	plakar-gw) step "$ds" "$tool" "$name" "${CMD[@]}" ingest "$src" ;;
	restic) step "$ds" "$tool" "$name" "${CMD[@]}" backup "$src" ;;
	borg)
		LAST[$ds|$tool]=$ds-$n
		step "$ds" "$tool" "$name" "${CMD[@]}" create "$repo::$ds-$n" "$src"
		;;
	esac
}

phase1() { # DS TOOL : init + first ingest, unchanged ingest
	local ds=$1 tool=$2 repo=$WORK/repos/$2-$1 cache=$WORK/cache/$2-$1 before rc=0
	rm -rf "$repo" "$cache"
	mkdir -p "$cache"
	tool_cmd "$tool" "$ds"
	case $tool in
	# shellcheck disable=SC2086 # PLAKAR_GW_INIT_FLAGS is a list of flags
	plakar-gw) step "$ds" "$tool" init "${CMD[@]}" init ${PLAKAR_GW_INIT_FLAGS:-} || rc=$? ;;
	restic) step "$ds" "$tool" init "${CMD[@]}" init || rc=$? ;;
	borg) step "$ds" "$tool" init "${CMD[@]}" init --encryption=repokey-blake2 "$repo" || rc=$? ;;
	esac
	if ((rc)); then
		R[$ds|$tool|first]=${R[$ds|$tool|init]}
		ST[$ds|$tool|first]=fail
		return 0
	fi
	ingest "$ds" "$tool" 1 ingest1 || true
	combine "$ds" "$tool" first init ingest1
	[[ ${ST[$ds|$tool|ingest1]} != fail ]] || return 0
	OK[$ds|$tool]=1
	SIZES[$ds|$tool|first]=$(dir_bytes "$repo")
	SIZES[$ds|$tool|add-first]=${SIZES[$ds|$tool|first]}
	before=${SIZES[$ds|$tool|first]}
	ingest "$ds" "$tool" 2 unchanged || true
	SIZES[$ds|$tool|add-unchanged]=$(($(dir_bytes "$repo") - before))
}

phase2() { # DS TOOL : changed ingest (mixed), restore + verify, check, list
	local ds=$1 tool=$2 repo=$WORK/repos/$2-$1 src=$WORK/data/$1 out=$WORK/restore/$2-$1 before restored id
	[[ -n ${OK[$ds|$tool]:-} ]] || return 0
	tool_cmd "$tool" "$ds"
	if [[ $ds == mixed ]]; then
		before=$(dir_bytes "$repo")
		ingest "$ds" "$tool" 3 changed || true
		SIZES[$ds|$tool|add-changed]=$(($(dir_bytes "$repo") - before))
	fi

	rm -rf "$out"
	mkdir -p "$out"
	VERIFY[$ds|$tool]="restore failed"
	case $tool in
	plakar-gw)
		restored=$out
		if id=$(pg_latest "$ds") && [[ -n $id ]]; then
			step "$ds" "$tool" restore "${CMD[@]}" restore "$id" --to "$out" || true
		else
			warn "plakar-gw: cannot get the latest snapshot id from 'snapshots --json':"
			sed 's/^/    /' "$LOGS/$ds.plakar-gw.snapshots-json.err" >&2 || true
			ST[$ds|$tool|restore]=fail
		fi
		;;
	restic)
		restored=$out$src
		step "$ds" "$tool" restore "${CMD[@]}" restore latest --target "$out" || true
		;;
	borg)
		restored=$out/${src#/}
		step "$ds" "$tool" restore env -C "$out" BORG_BASE_DIR="$WORK/cache/$tool-$ds" \
			borg extract "$repo::${LAST[$ds|$tool]}" || true
		;;
	esac
	if [[ ${ST[$ds|$tool|restore]:-fail} != fail ]]; then
		log "    verifying restore: diff -r -q $src $restored"
		if diff -r -q --no-dereference "$src" "$restored" >"$LOGS/$ds.$tool.restore.diff" 2>&1; then
			VERIFY[$ds|$tool]=ok
			log "    restore verified: identical"
		else
			VERIFY[$ds|$tool]=MISMATCH
			warn "################################################################"
			warn "### RESTORE MISMATCH: $tool on $ds ($(wc -l <"$LOGS/$ds.$tool.restore.diff") differences)"
			warn "### full list: $LOGS/$ds.$tool.restore.diff"
			warn "################################################################"
			head -n 20 "$LOGS/$ds.$tool.restore.diff" | sed 's/^/    /' >&2
		fi
	fi
	chmod -R u+w "$out" 2>/dev/null || true
	rm -rf "$out"

	case $tool in
	plakar-gw | restic) step "$ds" "$tool" check "${CMD[@]}" check --read-data || true ;;
	borg) step "$ds" "$tool" check "${CMD[@]}" check --verify-data "$repo" || true ;;
	esac
	case $tool in
	plakar-gw | restic) step "$ds" "$tool" list "${CMD[@]}" snapshots || true ;;
	borg) step "$ds" "$tool" list "${CMD[@]}" list "$repo" || true ;;
	esac
	SIZES[$ds|$tool|final]=$(dir_bytes "$repo")
	SIZES[$ds|$tool|cache]=$(dir_bytes "$WORK/cache/$tool-$ds")
}

# --- run ----------------------------------------------------------------------
for ds in "${DS_LIST[@]}"; do
	src=$WORK/data/$ds
	case $ds in
	mixed)
		log "[$ds] generating $SIZE dataset (seed $SEED)"
		"$WORK/gendata" -out "$src" -size "$SIZE" -seed "$SEED"
		;;
	goroot)
		log "[$ds] copying $GOROOT_DIR"
		cp -a "$GOROOT_DIR" "$src"
		;;
	esac
	DSB[$ds|1]=$(tree_bytes "$src")
	DSB[$ds|files]=$(find "$src" -type f | wc -l)
	log "[$ds] ${DSB[$ds|files]} files, ${DSB[$ds|1]} bytes"
	for tool in "${ACTIVE[@]}"; do phase1 "$ds" "$tool"; done
	DSB[$ds|2]=${DSB[$ds|1]}
	if [[ $ds == mixed ]]; then
		log "[$ds] mutating the dataset (second version)"
		"$WORK/gendata" -mutate "$src" -seed "$SEED"
		DSB[$ds|2]=$(tree_bytes "$src")
	fi
	for tool in "${ACTIVE[@]}"; do phase2 "$ds" "$tool"; done
done

# --- report -------------------------------------------------------------------
mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }

# cells DS TOOL STEP BYTES ADDEDKEY : "wall | cpu | MB/s | rss | added"
cells() {
	local ds=$1 tool=$2 name=$3 bytes=$4 addkey=$5 key="$1|$2|$3" w u s m rc tp add flag=""
	if [[ -n ${TOOL_STATUS[$tool]:-} ]]; then
		echo "n/a | | | |"
		return
	fi
	if [[ -z ${ST[$key]:-} ]]; then
		echo "skipped | | | |"
		return
	fi
	read -r w u s m rc <<<"${R[$key]}"
	if [[ ${ST[$key]} == fail ]]; then
		echo "FAIL (exit $rc) | | | |"
		return
	fi
	[[ ${ST[$key]} == partial ]] && flag=" (partial)"
	tp=-
	[[ $bytes != - ]] && tp=$(awk -v b="$bytes" -v w="$w" 'BEGIN { if (w > 0) printf "%.1f", b / 1e6 / w; else print "-" }')
	add=-
	[[ $addkey != - && -n ${SIZES[$ds|$tool|$addkey]:-} ]] && add=$(mib "${SIZES[$ds|$tool|$addkey]}")
	awk -v w="$w" -v u="$u" -v s="$s" -v m="$m" -v tp="$tp" -v add="$add" -v flag="$flag" \
		'BEGIN { printf "%.2f%s | %.2f | %s | %.1f | %s\n", w, flag, u + s, tp, m / 1024, add }'
}

throughput() { # DS TOOL [KEY] -> MB/s of the first ingest (KEY first: with init; ingest1: alone), or empty
	local key="$1|$2|${3:-first}" w
	[[ ${ST[$key]:-fail} != fail ]] || return 0
	read -r w _ <<<"${R[$key]}"
	awk -v b="${DSB[$1|1]}" -v w="$w" 'BEGIN { if (w > 0) printf "%.3f", b / 1e6 / w }'
}

sizecell() { # DS TOOL WHAT
	if [[ -n ${TOOL_STATUS[$2]:-} ]]; then echo "n/a"; elif [[ -n ${SIZES[$1|$2|$3]:-} ]]; then mib "${SIZES[$1|$2|$3]}"; else echo "-"; fi
}

report() {
	local ds tool hdr sep row r a b
	echo "# plakar-gw benchmark results"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); host: $(uname -srm), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
	echo "- work dir: $WORK (filesystem: $(df -T "$WORK" | awk 'NR == 2 { print $2 }'))"
	echo "- page cache: $CACHE_MODE$([[ $CACHE_MODE == warm ]] && echo " (drop_caches not writable: every step runs with a warm cache)")"
	echo "- $(go version)"
	for tool in "${TOOL_LIST[@]}"; do
		case $tool in
		plakar-gw) echo "- plakar-gw: ${PLAKAR_GW_INIT_FLAGS:+init $PLAKAR_GW_INIT_FLAGS, }${PLAKAR_GW_BIN:+prebuilt $PLAKAR_GW_BIN, source tree }$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo ' (dirty tree)')${TOOL_STATUS[$tool]:+ — ${TOOL_STATUS[$tool]}}" ;;
		restic) echo "- restic: ${TOOL_STATUS[$tool]:-$(restic version 2>/dev/null | head -n 1)}" ;;
		borg) echo "- borg: ${TOOL_STATUS[$tool]:-$(borg --version 2>/dev/null)}" ;;
		esac
	done
	echo "- all tools run with their default settings (restic: repository v2, compression auto; borg: repokey-blake2, lz4; plakar-gw: defaults)"
	echo
	for ds in "${DS_LIST[@]}"; do
		echo "## Dataset: $ds"
		echo
		echo "${DSB[$ds|files]} files, $(mib "${DSB[$ds|1]}") MiB$([[ $ds == mixed ]] && echo " (generated, $SIZE, seed $SEED; $(mib "${DSB[$ds|2]}") MiB after mutation)")$([[ $ds == goroot ]] && echo " (copy of $GOROOT_DIR)")."
		echo
		hdr="| step |"
		sep="|---|"
		for tool in "${TOOL_LIST[@]}"; do
			hdr+=" $tool wall s | CPU s | MB/s | RSS MiB | repo +MiB |"
			sep+="---:|---:|---:|---:|---:|"
		done
		echo "$hdr"
		echo "$sep"
		for r in "init + first ingest|first|1|add-first" "first ingest alone (no init)|ingest1|1|-" "unchanged ingest|unchanged|1|add-unchanged" \
			"changed ingest|changed|2|add-changed" "restore latest|restore|2|-" "check (read all data)|check|-|-" \
			"list snapshots (repo open)|list|-|-"; do
			IFS='|' read -r label key b a <<<"$r"
			[[ $key == changed && $ds != mixed ]] && continue
			row="| $label |"
			for tool in "${TOOL_LIST[@]}"; do
				row+=" $(cells "$ds" "$tool" "$key" "$([[ $b == - ]] && echo - || echo "${DSB[$ds|$b]}")" "$a") |"
			done
			echo "$row"
		done
		echo
		hdr="| repository |"
		sep="|---|"
		for tool in "${TOOL_LIST[@]}"; do
			hdr+=" $tool |"
			sep+="---:|"
		done
		echo "$hdr"
		echo "$sep"
		for r in "size after first ingest, MiB|first" "size after everything, MiB|final" "local cache size, MiB|cache"; do
			IFS='|' read -r label key <<<"$r"
			row="| $label |"
			for tool in "${TOOL_LIST[@]}"; do row+=" $(sizecell "$ds" "$tool" "$key") |"; done
			echo "$row"
		done
		row="| restore verified (diff -r) |"
		for tool in "${TOOL_LIST[@]}"; do
			if [[ -n ${TOOL_STATUS[$tool]:-} ]]; then row+=" n/a |"; else row+=" ${VERIFY[$ds|$tool]:-skipped} |"; fi
		done
		echo "$row"
		echo
		for k in "ingest1|first ingest alone" "first|init + first ingest"; do
			IFS='|' read -r key label <<<"$k"
			a=$(throughput "$ds" plakar-gw "$key")
			for tool in restic borg; do
				b=$(throughput "$ds" "$tool" "$key")
				if [[ -n $a && -n $b ]]; then
					echo "- $label, throughput ratio plakar-gw / $tool: $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
				else
					echo "- $label, throughput ratio plakar-gw / $tool: n/a (not measured)"
				fi
			done
		done
		echo
	done
	echo "MB/s = dataset bytes / 10^6 / wall seconds (ingest, restore). CPU s = user + sys. RSS = peak resident set size."
	echo "repo +MiB = growth of the repository directory (du -sb) caused by that ingest. Raw numbers: results.tsv; logs: logs/."
}

report >"$WORK/results.md"
echo
cat "$WORK/results.md"
echo
log "results saved to $WORK/results.md (raw: $WORK/results.tsv, logs: $LOGS)"
log "repositories and datasets are left in $WORK; the next run cleans them (or: rm -rf $WORK)"
fail=0
for ds in "${DS_LIST[@]}"; do
	for tool in "${ACTIVE[@]}"; do
		if [[ ${VERIFY[$ds|$tool]:-} == MISMATCH ]]; then
			warn "RESTORE MISMATCH: $tool on $ds"
			fail=1
		fi
	done
done
exit "$fail"
