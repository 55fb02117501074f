package dev.sluice.sql;

/**
 * What a statement does, judged from its leading keyword (see {@link Fingerprinter} for the rules).
 */
public enum StatementKind {
    /** {@code SELECT}, {@code VALUES}, {@code TABLE}, or {@code WITH ... SELECT}. */
    READ,
    /**
     * {@code INSERT}, {@code UPDATE}, {@code DELETE}, {@code MERGE}, {@code TRUNCATE},
     * {@code REFRESH}, or a {@code WITH} whose main statement or one of whose CTEs modifies data.
     */
    WRITE,
    /** {@code CREATE}, {@code ALTER}, {@code DROP}, {@code COMMENT}, {@code GRANT}, {@code REVOKE},
     * {@code REINDEX}, {@code SECURITY LABEL}, {@code IMPORT}, and {@code SELECT ... INTO}. */
    DDL,
    /** {@code BEGIN}, {@code START}, {@code COMMIT}, {@code END}, {@code ROLLBACK}, {@code ABORT},
     * {@code SAVEPOINT}, {@code RELEASE}, {@code PREPARE TRANSACTION}. */
    TRANSACTION,
    /** Everything else ({@code SET}, {@code SHOW}, {@code COPY}, {@code EXPLAIN}, {@code CALL},
     * {@code DO}, {@code LOCK}, {@code VACUUM}, ...), and an empty statement. */
    OTHER
}
