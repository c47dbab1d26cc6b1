#!/bin/sh
# vessel compare's probe: what the workload can see from inside, one fact
# per line ("key value"), the same in linux and VM mode.
echo "kernel $(uname -r)"
for p in /proc/[0-9]*; do
  cmd=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null | cut -c1-100)
  [ -n "$cmd" ] && echo "process $cmd"
done
echo "mounts $(wc -l < /proc/self/mounts)"
echo "dev $(ls -A /dev | wc -l)"
echo "sys $(find /sys -maxdepth 3 2>/dev/null | wc -l)"
echo "keys $(cat /proc/keys 2>/dev/null | wc -l)"
for i in /sys/class/net/*; do [ -e "$i" ] && echo "netif ${i##*/}"; done
echo "seccomp $(awk '/^Seccomp:/ {print $2}' /proc/self/status)"
echo "capeff $(awk '/^CapEff:/ {print $2}' /proc/self/status)"
