package dev.delora.core.sora;

/** How SoRA's gate optimizer applies its threshold ξ after each Adam step. */
public enum SoraThreshold {
    /**
     * The reference code's three sequential statements ({@code p[p>ξ]-=ξ; p[p<-ξ]+=ξ; p[|p|<ξ]=0}): values whose
     * magnitude is below 2ξ end at exactly 0, larger ones shrink by ξ.
     */
    REFERENCE,
    /** The textbook soft threshold {@code sign(p)·max(|p|−ξ, 0)}. */
    SOFT
}
