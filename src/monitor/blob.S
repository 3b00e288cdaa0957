/* blob.S: embeds the flat monitor binary in shade (host side, read by monitor.c). */
	.section .rodata
	.balign 4096
	.globl monitor_blob_start, monitor_blob_end
monitor_blob_start:
	.incbin "monitor.bin"
monitor_blob_end:
	.section .note.GNU-stack, "", @progbits
