# guests.cmake: ctest entries for the bare-metal test guests of guest-images/tests.
# Included from tests/CMakeLists.txt. Every guest runs twice, under shade and under
# QEMU TCG, with the same image and the same checks (tests/guest/run-guest.sh);
# the shade run skips (77) without /dev/kvm, the QEMU run without qemu-system-x86_64.
# bench-traps is a benchmark (bench/run-traps.sh); here it runs briefly, for its checks
# that every kind of trap completes under both peers.

set(SHADE_TEST_GUESTS privileged exceptions rings timer uart bench-traps
    paging-matrix-32 paging-matrix-pae paging-matrix-64 paging-edit-32 paging-edit-64)
set(SHADE_GUEST_CMDLINE_bench-traps "iterations=200")
# balloon-evil needs a legacy virtio-balloon; shade always has one, QEMU gets it here.
list(APPEND SHADE_TEST_GUESTS balloon-evil)
set(SHADE_GUEST_QEMU_ARGS_balloon-evil -device virtio-balloon-pci,disable-modern=on)
# procs64: a 64-bit kernel with ring-3 processes; procs64-bench is the same image in its
# benchmark mode (bench/ runs it at length), here briefly for its checks.
list(APPEND SHADE_TEST_GUESTS procs64 procs64-bench)
# invalid-ops: encodings a CPU refuses, at CPL 0 and 3, must fault, not stop the VM.
list(APPEND SHADE_TEST_GUESTS invalid-ops)
# cpu-model: what CPUID advertises works (CR4 bits, RDTSCP, XSAVE or its absence,
# ICEBP) and the advertised CPU's MSRs (MTRR, PAT, MCA, counters) behave as hardware's.
list(APPEND SHADE_TEST_GUESTS cpu-model)
# iretq64: IRETQ from 64-bit ring 0 to ring 0 in every form a kernel uses, and its faults.
list(APPEND SHADE_TEST_GUESTS iretq64)
set(SHADE_GUEST_CMDLINE_procs64-bench "bench iterations=5 pages=8")
# firmware: the BIOS's tables as a kernel finds them; it ends with an ACPI soft-off
# (\_S5), which both peers turn into exit status 0. pc-devices: fw_cfg, i8042, the
# VGA's CRTC and text buffer (QEMU's default VGA, which -nodefaults removes).
list(APPEND SHADE_TEST_GUESTS firmware pc-devices)
set(SHADE_GUEST_EXPECT_STATUS_firmware 0)
set(SHADE_GUEST_QEMU_ARGS_pc-devices -device VGA)
# Segment caches and descriptor tables: a far jump to a new 64-bit CS of the same
# selector number, GDT rewrites with paging on (cs-reload); IRET to ring 3 and back by
# INT n, paging off and on, supervisor-only ring-0 stack (iret32); writes to the GDT page
# through flat and non-flat segments, paging off and on (gdt-write); a kernel linked at
# 0x80100000, loaded at 1 MiB, with a physical ELF entry point (higher-half).
list(APPEND SHADE_TEST_GUESTS cs-reload iret32 gdt-write higher-half)
# The local APIC and the I/O APIC (xAPIC paging off and on, timer modes, x2APIC; PIT,
# RTC and COM1 routed through the I/O APIC with the i8259 masked).
list(APPEND SHADE_TEST_GUESTS apic ioapic)
set(SHADE_GUEST_QEMU_ARGS_ioapic -device pc-testdev)
# single-step: the #DB after each instruction begun with EFLAGS.TF, emulated ones too.
list(APPEND SHADE_TEST_GUESTS single-step)

# Bytes fed to COM1 (the uart guest checks them; keep in sync with UART_INPUT there).
set(SHADE_GUEST_INPUT_uart "shade-uart-input\n")
# Known kvm_pvm backend gaps per guest, for shade runs (GUEST_PVM_GAPS in
# run-guest.sh), e.g. set(SHADE_GUEST_PVM_GAPS_exceptions "single-step") .
# kvm_pvm interprets compatibility-mode CPL 3 code and does not check alignment: the
# guest's misaligned access with CR0.AM=EFLAGS.AC=1 never faults, so shade never sees it.
set(SHADE_GUEST_PVM_GAPS_exceptions "misaligned load at CPL3 with AM=AC=1")
# kvm_pvm's interpreter runs SWAPGS at CPL 1 in compatibility mode (hardware: #UD, which
# the monitor would hand to shade), so the guest's ring-0 SWAPGS raises nothing.
set(SHADE_GUEST_PVM_GAPS_invalid-ops "CPL0: SWAPGS outside 64-bit mode")
# kvm_pvm runs 64-bit ring 3 with the real IF set whatever the guest's IRETQ/SYSRETQ
# loaded, and PUSHFQ there shows it (0x202 where the guest gave 0x2).
set(SHADE_GUEST_PVM_GAPS_procs64 "ring 3 runs with the kernel's RFLAGS")
# Seconds per run, a hang guard: the slowest guest (paging-matrix-64 under shade) took
# 112 s with two CPU hogs and parallel tests, ~4x that is the guard; ctest's TIMEOUT
# leaves run-guest.sh time to report. The timer guest's own waits are bounded by the
# TSC (at most ~160 s of RTC time even when every measurement is retried).
set(SHADE_GUEST_TIMEOUT 450)
# Guests that measure interrupt rates against the RTC: a VMM starved of CPU by
# parallel tests loses ticks, so these run alone.
set(SHADE_SERIAL_GUESTS timer bench-traps)

foreach(guest ${SHADE_TEST_GUESTS})
  set(kernel ${PROJECT_BINARY_DIR}/guest-images/tests/${guest}.elf)
  foreach(vmm shade qemu)
    if(vmm STREQUAL "shade")
      # Every shade run checks the shadow MMU's invariants after each operation.
      set(bin $<TARGET_FILE:shade>)
      set(args -- --audit)
    else()
      set(bin -)
      set(args)
      if(DEFINED SHADE_GUEST_QEMU_ARGS_${guest})
        set(args -- ${SHADE_GUEST_QEMU_ARGS_${guest}})
      endif()
    endif()
    set(name guest.${guest}.${vmm})
    add_test(NAME ${name}
      COMMAND sh ${PROJECT_SOURCE_DIR}/tests/guest/run-guest.sh ${vmm} ${bin} ${kernel} ${args})
    set(env "GUEST_TIMEOUT=${SHADE_GUEST_TIMEOUT}")
    if(DEFINED SHADE_GUEST_CMDLINE_${guest})
      list(APPEND env "GUEST_CMDLINE=${SHADE_GUEST_CMDLINE_${guest}}")
    endif()
    if(DEFINED SHADE_GUEST_EXPECT_STATUS_${guest})
      list(APPEND env "GUEST_EXPECT_STATUS=${SHADE_GUEST_EXPECT_STATUS_${guest}}")
    endif()
    if(DEFINED SHADE_GUEST_INPUT_${guest})
      list(APPEND env "GUEST_INPUT=${SHADE_GUEST_INPUT_${guest}}")
    endif()
    if(vmm STREQUAL "shade" AND DEFINED SHADE_GUEST_PVM_GAPS_${guest})
      list(APPEND env "GUEST_PVM_GAPS=${SHADE_GUEST_PVM_GAPS_${guest}}")
    endif()
    set_tests_properties(${name} PROPERTIES
      ENVIRONMENT "${env}"
      SKIP_RETURN_CODE 77
      TIMEOUT 500
      LABELS guest)
    if(guest IN_LIST SHADE_SERIAL_GUESTS)
      set_tests_properties(${name} PROPERTIES RUN_SERIAL TRUE)
    endif()
  endforeach()
endforeach()
