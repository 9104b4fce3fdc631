/* rng.h: a small deterministic generator (splitmix64 seeding + xoshiro256**), so that every
 * shuffle, augmentation and t sample is reproducible from a seed and resumable from state. */
#ifndef RNG_H
#define RNG_H
#include <stdint.h>
typedef struct { uint64_t s[4]; } rng_t;

static inline uint64_t rng__splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static inline void rng_seed(rng_t *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = rng__splitmix(&seed);
}
static inline uint64_t rng__rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static inline uint64_t rng_next(rng_t *r) {
    uint64_t *s = r->s, res = rng__rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rng__rotl(s[3], 45);
    return res;
}
/* uniform in [0,1) with 53 bits */
static inline double rng_uniform(rng_t *r) { return (rng_next(r) >> 11) * 0x1.0p-53; }
/* uniform integer in [0,n) */
static inline uint32_t rng_below(rng_t *r, uint32_t n) { return (uint32_t)(rng_uniform(r) * n); }
#endif
