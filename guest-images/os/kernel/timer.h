/*
 * timer.h: the PIC and the periodic timer (timer.c).
 */
#ifndef OS_TIMER_H
#define OS_TIMER_H

#define HZ 100
#define TIMER_VEC_BASE 32

void timer__init(void);
void timer__eoi(int irq);
void pic__unmask(int irq);	/* a device's line (through the cascade for 8-15) */

#endif
