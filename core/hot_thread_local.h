#pragma once
/// NUDGE_HOT_THREAD_LOCAL marks a small thread-local that every op reads (grad mode, the active
/// recording, this thread's small-block lists) as initial-exec: reached with one instruction
/// instead of a call into the dynamic linker's TLS resolver, which was a tenth of a 4-element op.
/// glibc keeps a small reserve of static TLS for libraries loaded with dlopen that use this model;
/// nudge's variables of this kind come to a few dozen bytes. Larger thread-locals stay ordinary.
#define NUDGE_HOT_THREAD_LOCAL __attribute__((tls_model("initial-exec")))
