# os.cmake: ctest entries for the bundled guest OS (guest-images/os), included from
# tests/CMakeLists.txt. The runner script test.rc (in the OS's initial file system)
# exercises fork/exec/wait of a few hundred processes, copy-on-write fork, 64 MiB of
# demand paging, memtouch, verify, compute and syscallbench; run-os.sh compares the
# transcript with expected-test.txt.
#
# Both peers run the same image and script against the same expected transcript; each
# shade run uses --audit.
set(SHADE_OS_VMMS shade qemu)
set(os_dir ${PROJECT_BINARY_DIR}/guest-images/os)
foreach(vmm ${SHADE_OS_VMMS})
  if(vmm STREQUAL "shade")
    set(bin $<TARGET_FILE:shade>)
    set(args -- --audit)
  else()
    set(bin -)
    set(args)
  endif()
  add_test(NAME os.test.${vmm}
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/os/run-os.sh ${vmm} ${bin} ${os_dir}/kernel.elf
            ${os_dir}/initrd.tar ${CMAKE_CURRENT_SOURCE_DIR}/os/expected-test.txt ${args})
  # A hang guard above run-os.sh's own (OS_TIMEOUT, 3600 s; see there for the need).
  set_tests_properties(os.test.${vmm} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 3700 LABELS os)
endforeach()

# The virtio-balloon driver against QEMU's device, driven through QMP (run-balloon.sh):
# inflate to half of memory and back with verify in between, host-side query-balloon
# and guest statistics; .oom: deflate-on-oom under memory pressure.
foreach(variant qemu qemu.oom)
  set(mode)
  if(variant STREQUAL "qemu.oom")
    set(mode oom)
  endif()
  add_test(NAME os.balloon.${variant}
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/os/run-balloon.sh ${os_dir}/kernel.elf
            ${os_dir}/initrd.tar ${mode})
  set_tests_properties(os.balloon.${variant} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS os)
endforeach()
