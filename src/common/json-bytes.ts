/** The bytes of JSON's syntax, for the scanners that read JSON lines without parsing them. */
export const QUOTE = 34;
export const BSLASH = 92;
export const COLON = 58;
export const COMMA = 44;
export const LBRACE = 123;
export const RBRACE = 125;
export const LBRACK = 91;
export const RBRACK = 93;
export const MINUS = 45;
export const PLUS = 43;
export const DOT = 46;
export const D0 = 48;
export const D9 = 57;
