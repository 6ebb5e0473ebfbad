/** Who the step containers run as, and what they may do. See pod.ts for the security contexts. */

/** The user every non-Kaniko container runs as (the distroless "nonroot" id). */
export const NON_ROOT_UID = 65532;

/**
 * What Kaniko needs on top of root to unpack base images and run RUN steps (chown, setuid
 * helpers such as apt's _apt user, file capabilities). Everything else is dropped.
 */
// FSETID: without it the kernel clears setgid bits when root chmods a file of another group,
// so packages such as crontab or chage would land without theirs.
export const KANIKO_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'SETGID', 'SETUID', 'SETFCAP'] as const;
