/* errlen.h: the one length of every error buffer in the project. A function that can fail
 * writes one line, "<file>: <problem>", into a caller's buffer of DKMC_ERRLEN bytes; the
 * modules' own names (HOST_ERRLEN, CURVE_ERRLEN, ...) are aliases of it, kept so that code
 * written against them still builds. */
#ifndef DKMC_ERRLEN_H
#define DKMC_ERRLEN_H
#define DKMC_ERRLEN 512
#endif
