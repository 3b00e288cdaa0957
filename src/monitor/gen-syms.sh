#!/bin/sh
# gen-syms.sh NM ELF: the monitor's global symbols as C #defines for the VMM.
echo "/* generated from monitor.elf: do not edit */"
"$1" "$2" | awk '$2 == "T" { printf "#define SYM_%s 0x%sULL\n", toupper($3), $1 }'
