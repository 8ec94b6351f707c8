//! Lock lab
