/**
 * Registry authentication moved to ./authn (one idea per file). This re-export keeps
 * imports of './auth' from branches written before the split compiling; import from
 * './authn' in new code.
 */
export * from './authn';
