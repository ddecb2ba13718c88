/* The native peer of the spawn benchmark: a static program that does
 * nothing, run by fork+exec. */
int main(void)
{
    return 0;
}
