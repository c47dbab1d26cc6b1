#!/bin/sh
# vessel compare's probe: what the workload can see and learn from inside,
# one fact per line ("key value"), the same in linux and VM mode; then
# /boundary tries the kernel interfaces behind container escapes.
# Reads only: nothing here writes outside the container's own /dev.
echo "kernel $(uname -r)"
for p in /proc/[0-9]*; do
  cmd=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null | cut -c1-100)
  [ -n "$cmd" ] && echo "process $cmd"
done
echo "mounts $(wc -l < /proc/self/mounts)"
echo "dev $(ls -A /dev | wc -l)"
echo "sys $(find /sys -maxdepth 3 2>/dev/null | wc -l)"
echo "keys $(cat /proc/keys 2>/dev/null | wc -l)"
# /proc/net/dev lists the interfaces of the reader's network namespace.
sed -n 's/^ *\([^ :]*\):.*/netif \1/p' /proc/net/dev 2>/dev/null
echo "netns $(readlink /proc/self/ns/net 2>/dev/null)"
echo "seccomp $(awk '/^Seccomp:/ {print $2}' /proc/self/status)"
echo "capeff $(awk '/^CapEff:/ {print $2}' /proc/self/status)"
echo "cpu $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
echo "uptime $(cut -d ' ' -f 1 /proc/uptime 2>/dev/null)"
# Cgroups other than this process's own, its ancestors and descendants:
# other tenants', from the cgroup filesystem (its mount's root prefixed,
# as it may be the container's own cgroup bound there) and from other
# processes' /proc/PID/cgroup (where the host's pids are visible).
own=$(sed -n 's/^0:://p' /proc/self/cgroup 2>/dev/null)
own=${own%/}
base=$(awk '$5 == "/sys/fs/cgroup" {print $4}' /proc/self/mountinfo 2>/dev/null | tail -n 1)
base=${base%/}
{ find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d 2>/dev/null | sed "s|^/sys/fs/cgroup|$base|"
  cat /proc/[0-9]*/cgroup 2>/dev/null | sed -n 's/^0:://p'; } |
  sed 's/ (deleted)$//; s|/$||' | sort -u | awk -v own="$own" '
    index(own "/", $0 "/") == 1 { next }   # its own cgroup or an ancestor
    index($0, own "/") == 1 { next }       # a descendant
    { others++; if (others <= 3) { name = substr($0, 2); gsub(/ /, "_", name); sample = sample " " name } }
    END { print "cgroups " others + 0 sample }'
if [ -x /boundary ]; then /boundary; else echo "boundary missing"; fi
